using System.Diagnostics;

namespace Simulator.Tests.Sweeps;

/// <summary>
/// The notebooks under notebooks/ execute headless (jupyter nbconvert --execute) against the
/// shortened paper results of this test run. They need Python with nbconvert, ipykernel, pandas
/// and matplotlib (Debian: python3-nbconvert python3-ipykernel python3-pandas python3-matplotlib);
/// .ci/run installs them and sets REQUIRE_NOTEBOOKS=1 so that a missing Python fails instead of skipping.
/// </summary>
public sealed class NotebookTests
{
    private static readonly string[] Candidates = ["/usr/bin/python3", "python3"];

    [Fact]
    public void Notebooks_Should_Execute_Against_The_Paper_Results()
    {
        var python = Candidates.FirstOrDefault(HasModules);
        if (python is null)
        {
            const string why = "no python3 with nbconvert, ipykernel, pandas and matplotlib";
            Assert.False(Environment.GetEnvironmentVariable("REQUIRE_NOTEBOOKS") == "1", $"REQUIRE_NOTEBOOKS=1 but {why}");
            Console.WriteLine($"skipped: {why}");
            return;
        }
        var notebooks = Directory.GetFiles(Path.Combine(RepoPaths.Root, "notebooks"), "*.ipynb");
        Assert.NotEmpty(notebooks);
        using var dir = new TempDir();
        foreach (var notebook in notebooks)
        {
            var output = Path.Combine(dir.Path, Path.GetFileName(notebook));
            var (code, text) = Run(python, ["-m", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=600",
                "--output", output, notebook], PaperResults.Folder);
            Assert.True(code == 0, $"{Path.GetFileName(notebook)} failed:\n{text}");
            var executed = File.ReadAllText(output);
            Assert.DoesNotContain("\"output_type\": \"error\"", executed);
            Assert.Contains("image/png", executed);   // it drew figures
        }
    }

    private static bool HasModules(string python)
    {
        try
        {
            return Run(python, ["-c", "import nbconvert, ipykernel, pandas, matplotlib"], null).Code == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no such executable
        }
    }

    private static (int Code, string Text) Run(string file, string[] args, string? resultsDir)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        if (resultsDir is not null) start.Environment["RESULTS_DIR"] = resultsDir;
        start.Environment["PYDEVD_DISABLE_FILE_VALIDATION"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
