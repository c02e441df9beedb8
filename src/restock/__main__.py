from restock.cli import main

main()
