using System.Security.Cryptography;
using Simulator.Cli;
using Spectre.Console;

namespace Simulator.Tests.Cli.Fuzz;

/// <summary>
/// A folder tree the fuzz cases run in: <c>work/</c> (the working directory, holding each case's inputs, the
/// allowed outputs <c>work/out*</c> and <c>work/results/</c>) surrounded by sentinel files and folders that
/// no case may create, change or remove.
/// </summary>
internal sealed class FuzzSandbox : IDisposable
{
    private readonly TempDir root = new();

    public FuzzSandbox()
    {
        Directory.CreateDirectory(Work);
        Write("sentinel/notes.txt", "a user's notes");
        Write("sentinel/deep/data.csv", "a,b\n1,2\n");
        Write("README.txt", "beside the working directory");
        Write("work/keep.txt", "a file in the working directory");
        Write("work/user-folder/thesis.tex", "precious");
    }

    public string Root => root.Path;

    public string Work => Path.Combine(Root, "work");

    private readonly List<string> protectedPaths = [];

    /// <summary>Whether a successful command may write <paramref name="relative"/> (relative to <see cref="Root"/>).</summary>
    public bool IsOutput(string relative) =>
        new[] { "work/out", "work/out2", "work/results" }.Any(o => relative == o || relative.StartsWith(o + "/", StringComparison.Ordinal))
        && !protectedPaths.Any(p => relative == p || relative.StartsWith(p + "/", StringComparison.Ordinal));

    /// <summary>Writes a user's file inside an output area for this case only; no command may change it.</summary>
    public void Plant(string relative, string text)
    {
        var path = Path.Combine(Root, relative);
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true); // results an earlier case left
        Write(relative, text);
        protectedPaths.Add(relative);
    }

    public void Write(string relative, string text)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    public void WriteBytes(string relative, byte[] bytes) => File.WriteAllBytes(Path.Combine(Root, relative), bytes);

    /// <summary>Removes what earlier cases wrote (inputs and outputs), keeping the sentinels.</summary>
    public void Reset(bool keepOutputs)
    {
        if (protectedPaths.Count > 0) keepOutputs = false; // a planted file must not outlive its case
        protectedPaths.Clear();
        foreach (var entry in Directory.EnumerateFileSystemEntries(Work))
        {
            var relative = Path.GetRelativePath(Root, entry);
            if (relative is "work/keep.txt" or "work/user-folder" || (keepOutputs && IsOutput(relative))) continue;
            File.SetAttributes(entry, FileAttributes.Normal);
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
        }
    }

    /// <summary>Every file (with a hash of its bytes) and folder under the root.</summary>
    public Dictionary<string, string> Snapshot()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Directory.EnumerateFileSystemEntries(Root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Root, entry);
            result[relative] = Directory.Exists(entry) ? "dir" : Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(entry)));
        }
        return result;
    }

    /// <summary>Runs the CLI in-process in <see cref="Work"/>, capturing what it prints.</summary>
    public (int Code, string Output) Run(string[] args)
    {
        var (out0, err0, ansi0, cwd) = (Console.Out, Console.Error, AnsiConsole.Console, Environment.CurrentDirectory);
        using var output = new StringWriter();
        try
        {
            Console.SetOut(output);
            Console.SetError(output);
            // Spectre keeps the writer it was created with; give it this case's.
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No,
            });
            Environment.CurrentDirectory = Work;
            try
            {
                return (CliApp.Start(args), output.ToString());
            }
            catch (Exception e)
            {
                return (-1, $"{output}\nUnhandled exception: escaped CliApp.Start: {e}");
            }
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
            AnsiConsole.Console = ansi0;
            Console.SetOut(out0);
            Console.SetError(err0);
        }
    }

    public void Dispose() => root.Dispose();
}
