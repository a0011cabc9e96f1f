"""What a person reads: the table, the verdict, the comparison of two files, the plots and
the interpreters side by side."""
