from mediaplane.cli.main import main

main()
