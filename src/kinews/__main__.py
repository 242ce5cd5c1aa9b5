from kinews.cli import main

main()
