from hipback.cli import main

main()
