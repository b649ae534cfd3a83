using Simulator.Config;
using Simulator.Studies;
using Simulator.Sweeps;

namespace Simulator.Tests.Sweeps;

/// <summary>
/// The shipped paper configs run once per test process, shortened to a few requests per run,
/// into a temporary results folder shaped like the one <c>reproduce</c> writes. Runs whose trace
/// is absent (../shared/traces) are recorded as failed, as a real sweep would record them.
/// </summary>
internal static class PaperResults
{
    public const int RequestsPerRun = 25;

    private static readonly Lazy<string> Produced = new(Produce, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Folder => Produced.Value;

    public static IReadOnlyList<string> Configs =>
        Directory.GetFiles(Path.Combine(RepoPaths.Configs, "paper"), "*.yaml").Order(StringComparer.Ordinal).ToList();

    private static string Produce()
    {
        var root = Path.Combine(Path.GetTempPath(), "alignedserve-tests", "paper-" + Guid.NewGuid().ToString("N"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        };
        foreach (var file in Configs)
        {
            if (ExperimentLoader.StudyOf(file) is { } study)
            {
                var name = Study.Check(study, file, []);
                Study.Run(study, file, [], Path.Combine(root, name));
                continue;
            }
            var plan = SweepPlan.Load(file, [$"max_requests={RequestsPerRun}"]);
            SweepRunner.Run(plan, Path.Combine(root, plan.Name), new SweepOptions(Jobs: 2));
        }
        return root;
    }
}
