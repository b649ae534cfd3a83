namespace Simulator.Cli;

/// <summary>Process exit codes (documented in README).</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>An unexpected failure inside the program (a bug, or an I/O error while writing).</summary>
    public const int Failure = 1;

    /// <summary>Bad input: command line, config, catalog reference or workload that cannot run.</summary>
    public const int InvalidInput = 2;

    /// <summary>Interrupted (Ctrl+C); nothing partial was left behind.</summary>
    public const int Interrupted = 130;
}
