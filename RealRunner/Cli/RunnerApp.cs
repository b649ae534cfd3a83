using System.CommandLine;

namespace RealRunner.Cli;

/// <summary>The RealRunner command line.</summary>
public static class RunnerApp
{
    public static int Start(string[] args)
    {
        var root = new RootCommand("RealRunner: AlignedServe-Sim's policies and serving loop on a real device through ILGPU (CUDA or the CPU accelerator).")
        {
            RunCommand.Build(),
            SelfCheckCommand.Build(),
            ProfileCommand.Build(),
            ValidateCommand.Build(),
        };
        return root.Parse(args).Invoke();
    }
}
