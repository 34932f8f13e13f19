from plancheck.cli.main import main

main()
