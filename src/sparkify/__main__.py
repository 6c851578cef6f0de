from sparkify.cli import main

main()
