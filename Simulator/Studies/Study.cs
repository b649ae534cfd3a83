using Simulator.Config;
using Simulator.Output;
using Simulator.Plots;

namespace Simulator.Studies;

/// <summary>
/// Files with a top-level <c>study:</c> key evaluate the cost model directly instead of
/// simulating serving (comparisons of policies are sweeps). This maps study names to what runs them.
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

    /// <summary>Runs the study and writes its table, resolved config, figure and report.html into its results folder (atomically).</summary>
    public static (string Target, IReadOnlyList<string> Figures) Run(ScalarNode study, string path, IReadOnlyList<string> sets, string? outDir)
    {
        switch (study.Value)
        {
            case IterationLatency:
            {
                var config = ExperimentLoader.Load<IterationLatencyConfig>(path, sets);
                var rows = IterationLatencyStudy.Run(config);
                return Write(IterationLatency, config.Name, config, outDir, dir =>
                {
                    IterationLatencyStudy.Write(dir, rows);
                    return IterationLatencyFigure.Render(dir);
                });
            }
            default:
                throw Unknown(study);
        }
    }

    private static (string Target, IReadOnlyList<string> Figures) Write(string study, string name, object config, string? outDir,
        Func<string, IReadOnlyList<string>> write)
    {
        var target = outDir ?? Path.Combine("results", name);
        IReadOnlyList<string> figures = [];
        ResultsFolder.WriteAtomically(target, dir =>
        {
            File.WriteAllText(Path.Combine(dir, ResultsWriter.ResolvedConfigFile), $"study: {study}\n" + ConfigWriter.ToYaml(config));
            figures = write(dir);
            Reports.RunReport.Write(dir);
        });
        return (target, figures);
    }

    /// <summary>Redraws a study's figures and report.html if the folder holds one; false otherwise.</summary>
    public static bool TryPlot(string dir, out IReadOnlyList<string> figures)
    {
        figures = File.Exists(Path.Combine(dir, IterationLatencyStudy.TableFile)) ? IterationLatencyFigure.Render(dir) : [];
        if (figures.Count > 0) Reports.RunReport.Write(dir);
        return figures.Count > 0;
    }

    private static ConfigException Unknown(ScalarNode study) =>
        new(study.Location, ExperimentLoader.StudyKey, $"unknown study '{study.Value}'; expected one of: {string.Join(", ", Names)}");
}
