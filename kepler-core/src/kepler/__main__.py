from kepler.cli.main import main

main()
