return Simulator.Cli.CliApp.Start(args);
