using System.CommandLine;
using Simulator.Output;
using Simulator.Plots;
using Simulator.Studies;
using Spectre.Console;

namespace Simulator.Cli;

/// <summary><c>plot results/name</c>: re-render a run's, study's or sweep's figures and report.html (and a sweep's tables and report.md) from its CSVs without re-running.</summary>
public static class PlotCommand
{
    public static Command Build()
    {
        var dir = new Argument<DirectoryInfo>("results-dir") { Description = "A run's, study's or sweep's results folder" };
        var command = new Command("plot", "Re-render the figures of a results folder from its CSVs") { dir };
        command.SetAction(parsed => CliApp.Guard(() =>
        {
            var folder = parsed.GetValue(dir)!.FullName;
            Reports.HtmlReport.CheckReplaceable(folder); // before any figure is redrawn
            if (File.Exists(Path.Combine(folder, Sweeps.SweepManifest.File)))
            {
                foreach (var figure in Sweeps.SweepResults.WriteAll(folder)) AnsiConsole.MarkupLineInterpolated($"figure: {figure}");
                AnsiConsole.MarkupLineInterpolated($"report: {Path.Combine(folder, Sweeps.SweepReport.File)}, {Path.Combine(folder, Reports.HtmlReport.File)}");
                return ExitCodes.Ok;
            }
            if (Study.TryPlot(folder, out var studyFigures))
            {
                foreach (var figure in studyFigures) AnsiConsole.MarkupLineInterpolated($"figure: {figure}");
                AnsiConsole.MarkupLineInterpolated($"report: {Path.Combine(folder, Reports.HtmlReport.File)}");
                return ExitCodes.Ok;
            }
            if (!File.Exists(Path.Combine(folder, ResultsWriter.RequestsFile)))
            {
                Console.Error.WriteLine($"error: '{folder}' is not a results folder: {ResultsWriter.RequestsFile} is missing");
                return ExitCodes.InvalidInput;
            }
            foreach (var figure in FigureSet.Render(folder)) AnsiConsole.MarkupLineInterpolated($"figure: {figure}");
            AnsiConsole.MarkupLineInterpolated($"report: {Reports.RunReport.Write(folder)}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
