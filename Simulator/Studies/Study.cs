using Simulator.Config;
using Simulator.Output;
using Simulator.Plots;

namespace Simulator.Studies;

/// <summary>
/// Files with a top-level <c>study:</c> key evaluate the cost model directly instead of
/// simulating serving. This maps study names to what runs them.
/// </summary>
public static class Study
{
    public const string IterationLatency = "iteration_latency";

    public static IReadOnlyList<string> Names { get; } = [IterationLatency];

    /// <summary>Validates the study file; returns its name for results.</summary>
    public static string Check(ScalarNode study, string path, IReadOnlyList<string> sets) => study.Value switch
    {
        IterationLatency => ExperimentLoader.Load<IterationLatencyConfig>(path, sets).Name,
        _ => throw Unknown(study),
    };

    /// <summary>Runs the study and writes its table, resolved config and figure into its results folder (atomically).</summary>
    public static (string Target, IReadOnlyList<string> Figures) Run(ScalarNode study, string path, IReadOnlyList<string> sets, string? outDir)
    {
        if (study.Value != IterationLatency) throw Unknown(study);
        var config = ExperimentLoader.Load<IterationLatencyConfig>(path, sets);
        var rows = IterationLatencyStudy.Run(config);
        var target = outDir ?? Path.Combine("results", config.Name);
        IReadOnlyList<string> figures = [];
        ResultsFolder.WriteAtomically(target, dir =>
        {
            File.WriteAllText(Path.Combine(dir, ResultsWriter.ResolvedConfigFile), $"study: {IterationLatency}\n" + ConfigWriter.ToYaml(config));
            IterationLatencyStudy.Write(dir, rows);
            figures = IterationLatencyFigure.Render(dir);
        });
        return (target, figures);
    }

    /// <summary>Redraws a study's figures if the folder holds one; false otherwise.</summary>
    public static bool TryPlot(string dir, out IReadOnlyList<string> figures)
    {
        figures = File.Exists(Path.Combine(dir, IterationLatencyStudy.TableFile)) ? IterationLatencyFigure.Render(dir) : [];
        return figures.Count > 0;
    }

    private static ConfigException Unknown(ScalarNode study) =>
        new(study.Location, ExperimentLoader.StudyKey, $"unknown study '{study.Value}'; expected one of: {string.Join(", ", Names)}");
}
