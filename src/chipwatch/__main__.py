from chipwatch.cli import main

main()
