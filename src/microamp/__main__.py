from microamp.cli.main import main

main()
