using Simulator.Cli;
using Simulator.Output;

namespace Simulator.Tests.Output;

public sealed class ResultsTargetTests
{
    private static string Experiment(TempDir dir, string name) =>
        dir.File("exp.yaml", RepoPaths.MinimalExperiment.Replace("name: t", $"name: '{name}'").Replace("num_requests: 10", "num_requests: 2"));

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a/b")]
    [InlineData("")]
    public void Run_Should_Refuse_A_Name_That_Is_Not_A_Plain_Folder_When_It_Would_Leave_results(string name)
    {
        // Given a name that would resolve to the working directory or a path
        using var dir = new TempDir();
        var file = Experiment(dir, name);
        // When validated, Then the config is refused at file:line and nothing is written
        Assert.Equal(ExitCodes.InvalidInput, CliApp.Start(["check", file]));
        Assert.Single(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void Run_Should_Refuse_A_Name_When_It_Is_Longer_Than_The_Bound()
    {
        using var dir = new TempDir();
        Assert.Equal(ExitCodes.InvalidInput, CliApp.Start(["check", Experiment(dir, new string('a', 300))]));
    }

    [Fact]
    public void Run_Should_Leave_A_Foreign_Folder_Untouched_When_Out_Points_At_It()
    {
        // Given a folder holding a user's file
        using var dir = new TempDir();
        var file = Experiment(dir, "t");
        var user = Path.Combine(dir.Path, "mine");
        Directory.CreateDirectory(user);
        File.WriteAllText(Path.Combine(user, "thesis.tex"), "precious");
        // When a run is pointed at it
        var code = CliApp.Start(["run", file, "--out", user]);
        // Then it is refused and the folder is as it was
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Equal(["thesis.tex"], Directory.EnumerateFileSystemEntries(user).Select(Path.GetFileName));
    }

    [Fact]
    public void Run_Should_Replace_A_Results_Folder_Of_An_Earlier_Version_When_It_Holds_Only_Result_Files()
    {
        // Given results written before the marker existed (the marker removed), and the same with a user's file added
        using var dir = new TempDir();
        var file = Experiment(dir, "t");
        var target = Path.Combine(dir.Path, "out");
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["run", file, "--out", target]));
        File.Delete(Path.Combine(target, ResultsTarget.MarkerFile));
        // Then it is replaced, but not once a user's file is in it
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["run", file, "--out", target]));
        File.Delete(Path.Combine(target, ResultsTarget.MarkerFile));
        File.WriteAllText(Path.Combine(target, "figures", "mine.txt"), "notes");
        Assert.Equal(ExitCodes.InvalidInput, CliApp.Start(["run", file, "--out", target]));
        Assert.True(File.Exists(Path.Combine(target, "figures", "mine.txt")));
    }

    [Fact]
    public void Run_Should_Refuse_When_Out_Is_A_File()
    {
        using var dir = new TempDir();
        var file = Experiment(dir, "t");
        var notes = dir.File("notes.txt", "keep");
        Assert.Equal(ExitCodes.InvalidInput, CliApp.Start(["run", file, "--out", notes]));
        Assert.Equal("keep", File.ReadAllText(notes));
    }

    [Fact]
    public void Run_Should_Replace_Its_Own_Results_When_Run_Twice()
    {
        using var dir = new TempDir();
        var file = Experiment(dir, "t");
        var target = Path.Combine(dir.Path, "out");
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["run", file, "--out", target]));
        Assert.True(ResultsTarget.IsMarked(target));
        Assert.Equal(ExitCodes.Ok, CliApp.Start(["run", file, "--out", target]));
        Assert.True(File.Exists(Path.Combine(target, ResultsWriter.SummaryJsonFile)));
    }

    [Fact]
    public void Write_Failure_Should_Name_The_Results_Folder_When_It_Cannot_Be_Created()
    {
        // Given a target under a file (no folder can be made there, even as root)
        using var dir = new TempDir();
        var blocker = dir.File("blocker", "a file");
        // When results are written, Then the error names the results folder
        var e = Assert.Throws<IOException>(() => ResultsFolder.WriteAtomically(Path.Combine(blocker, "out"), _ => { }));
        Assert.Contains(Path.Combine(blocker, "out"), e.Message);
        Assert.Equal("a file", File.ReadAllText(blocker));
    }

    [Fact]
    public void Check_Should_Refuse_The_Working_Directory_And_Its_Parents()
    {
        var ex = Assert.Throws<Simulator.Config.ConfigException>(() => ResultsTarget.Check(Path.GetDirectoryName(Environment.CurrentDirectory)!));
        Assert.Contains("current directory", ex.Message);
    }
}
