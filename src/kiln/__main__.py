from kiln.cli.main import main

main()
