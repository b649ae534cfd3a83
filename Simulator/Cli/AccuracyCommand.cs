using System.CommandLine;
using Simulator.Accuracy;
using Simulator.Config;
using Simulator.Output;
using Simulator.Plots;
using Simulator.Specs;
using Spectre.Console;

namespace Simulator.Cli;

/// <summary>
/// <c>accuracy</c>: prices every published decode-attention measurement of a reference folder with the cost model and writes
/// the errors, per row and per kernel family and GPU, with a predicted-vs-measured figure. <c>--fit</c> also fits each family's
/// rates to the rows and checks them leaving each publication out in turn.
/// </summary>
public static class AccuracyCommand
{
    public const string DefaultReference = "../shared/reference";

    public static Command Build()
    {
        var reference = new Option<DirectoryInfo?>("--reference") { Description = $"Folder with decode_attention.csv (default: {DefaultReference})" };
        var catalogDir = new Option<DirectoryInfo?>("--catalog") { Description = "Catalog folder (default: ./configs, else the shipped one)" };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Results folder (default: results/accuracy)" };
        var fit = new Option<bool>("--fit") { Description = "Also fit each kernel family's rates to the rows (fit.csv) and check them leaving each source out (loso.csv)" };
        var command = new Command("accuracy", "Hold the cost model against published kernel measurements") { reference, catalogDir, output, fit };
        command.SetAction(parsed => CliApp.Guard(() =>
        {
            var folder = parsed.GetValue(reference)?.FullName ?? Path.GetFullPath(DefaultReference);
            var csv = Path.Combine(folder, "decode_attention.csv");
            if (!File.Exists(csv))
                throw new ConfigException(null, "--reference", $"no decode_attention.csv in '{folder}': pass --reference DIR (a folder in the layout of ../shared/reference/README.md)");
            var catalog = parsed.GetValue(catalogDir)?.FullName is { } c ? new Catalog(c)
                : Directory.Exists(Path.Combine("configs", "hardware")) ? new Catalog(Path.GetFullPath("configs")) : Catalog.Shipped();
            var gpus = new GpuLookup(catalog);
            var rows = ReferenceRow.Read(csv);
            var (results, unmapped) = AccuracyEvaluator.Evaluate(rows, gpus.Get);
            var target = parsed.GetValue(output)?.FullName ?? Path.GetFullPath(Path.Combine("results", "accuracy"));
            ResultsTarget.Check(target); // refuse a folder this tool did not write before any work
            IReadOnlyList<string> figures = [];
            IReadOnlyList<FittedRates> fitted = [];
            IReadOnlyList<LosoResult> loso = [];
            if (parsed.GetValue(fit)) (fitted, loso) = Fit(rows, gpus.Get);
            ResultsFolder.WriteAtomically(target, dir =>
            {
                ResultsTarget.Mark(dir);
                figures = AccuracyReport.Write(dir, results, unmapped);
                if (fitted.Count > 0) LeaveOneSourceOut.Write(dir, fitted, loso);
            });
            Print(AccuracyGroup.Of(results), unmapped.Count, fitted, loso);
            AnsiConsole.MarkupLineInterpolated($"wrote {target}/accuracy.csv, summary.csv, unmapped.csv{(fitted.Count > 0 ? ", fit.csv, loso.csv" : "")}");
            // The figures were written in a staging folder that became the target.
            foreach (var f in figures) AnsiConsole.MarkupLineInterpolated($"figure: {Path.Combine(target, FigureSet.Folder, Path.GetFileName(f))}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The in-sample fit, then one fit per publication left out, each an item of the progress shown.</summary>
    private static (IReadOnlyList<FittedRates>, IReadOnlyList<LosoResult>) Fit(IReadOnlyList<ReferenceRow> rows, Func<string, GpuSpec> gpuOf) =>
        ItemProgress.Run(progress =>
        {
            progress.Stage("accuracy --fit: fits (in-sample, then each publication left out)", 1 + rows.Select(LeaveOneSourceOut.SourceOf).Distinct().Count());
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var fitted = KernelFit.Fit(rows, gpuOf);
            progress.Finished("in-sample fit", clock.Elapsed.TotalSeconds);
            clock.Restart();
            var loso = LeaveOneSourceOut.Run(rows, gpuOf, source =>
            {
                progress.Finished($"fit without {source}", clock.Elapsed.TotalSeconds);
                clock.Restart();
            });
            return ((IReadOnlyList<FittedRates>)fitted, loso);
        });

    private static void Print(IReadOnlyList<AccuracyGroup> groups, int unmapped, IReadOnlyList<FittedRates> fitted, IReadOnlyList<LosoResult> loso)
    {
        var table = new Table().Title("decode attention: |predicted - measured| / measured").AddColumns("family", "gpu", "rows", "figure-read", "median", "worst", "worst row");
        foreach (var g in groups)
            table.AddRow(g.Family, g.Gpu, $"{g.Rows}", $"{g.FigureRead}", $"{g.MedianAbsError:P1}", $"{g.WorstAbsError:P1}", g.WorstRow);
        AnsiConsole.Write(table);
        if (unmapped > 0) AnsiConsole.MarkupLineInterpolated($"[yellow]{unmapped} rows have no catalog GPU or kernel family: see unmapped.csv[/]");
        if (fitted.Count == 0) return;
        var fits = new Table().Title("fitted rates (in-sample)").AddColumns("family", "arch", "per-block GB/s", "blocks/SM", "launch us", "reduction us", "rows", "median", "worst");
        foreach (var f in fitted)
            fits.AddRow(f.Family, f.Arch, $"{f.Rates.PerBlockGbPerS}", $"{f.Rates.ResidentBlocksPerSm}", $"{f.Rates.LaunchUs}", $"{f.Rates.ReductionUs}",
                $"{f.Rows}", $"{f.MedianAbsError:P1}", $"{f.WorstAbsError:P1}");
        AnsiConsole.Write(fits);
        var held = loso.Where(l => l.PredictedUs is not null).Select(l => Math.Abs(l.PredictedUs!.Value / l.Row.TimeUs - 1)).Order().ToArray();
        AnsiConsole.MarkupLineInterpolated(
            $"leave one source out: {held.Length} of {loso.Count} rows predictable without their source; median {KernelFit.Median(held):P1}, worst {(held.Length > 0 ? held[^1] : double.NaN):P1}");
    }

    /// <summary>Catalog GPUs by name, loaded once each.</summary>
    private sealed class GpuLookup(Catalog catalog)
    {
        private readonly Dictionary<string, GpuSpec> loaded = [];
        private readonly ConfigBinder binder = new(catalog);

        public GpuSpec Get(string name)
        {
            if (loaded.TryGetValue(name, out var gpu)) return gpu;
            var node = catalog.Resolve("hardware/gpus", new ScalarNode(name, true, new SourceLocation("accuracy", 0, 0)), "gpu");
            return loaded[name] = (GpuSpec)binder.Bind(typeof(GpuSpec), node, "gpu")!;
        }
    }
}
