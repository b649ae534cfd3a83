return RealRunner.Cli.RunnerApp.Start(args);
