using Simulator.CostModel;
using Simulator.Specs;

namespace Simulator.Accuracy;

/// <summary>Fitted rates of one kernel family on one GPU architecture, and how well they price its rows.</summary>
public sealed record FittedRates(string Family, string Arch, KernelRates Rates, int Rows, double MedianAbsError, double WorstAbsError);

/// <summary>
/// Fits each kernel family's rates (<see cref="KernelRates"/>) per GPU architecture to published rows: an exhaustive grid
/// over the per-block rate and residency (each pair priced once per row), then the launch and reduction times over their
/// grid, minimising the sum of absolute log errors plus twice the worst (so no row is given up for the median). The A100
/// variants share one architecture's rates (same SMs and clocks; their HBM rates differ and stay each GPU's own).
/// </summary>
public static class KernelFit
{
    private static readonly double[] PerBlockGrid = [6, 8, 10, 12, 14, 16, 18, 20, 22, 25, 28, 32, 36, 40, 45, 50, 55, 60, 70, 80];
    private static readonly double[] LaunchGrid = Enumerable.Range(0, 61).Select(i => i * 0.5).ToArray();
    private static readonly double[] ReductionGrid = Enumerable.Range(0, 15).Select(i => (double)i).ToArray();

    /// <summary>The family group whose rates a kernel uses in the catalog (<see cref="AttentionKernelRates"/>).</summary>
    public static string GroupOf(AttentionKernel kernel) => kernel switch
    {
        AttentionKernel.Auto or AttentionKernel.PagedV1 or AttentionKernel.PagedV2 => "paged",
        AttentionKernel.Fa2 => "fa2",
        AttentionKernel.SplitKv => "split_kv",
        AttentionKernel.Flashinfer => "flashinfer",
        _ => "per_head",
    };

    /// <summary>Architecture of a catalog GPU: the part of its name before the first '-' (a100, h100, h200).</summary>
    public static string ArchOf(string gpu) => gpu.Split('-')[0];

    /// <summary>Residencies the kernel's facts allow (../shared/reference/README.md): FlashInfer's grid is 1 (Hopper) or up to 2 (Ampere) blocks per SM.</summary>
    private static int[] Residencies(string group, string arch) => group switch
    {
        "flashinfer" => arch == "a100" ? [1, 2] : [1],
        "fa2" => [1, 2],
        _ => [1, 2, 3, 4, 6, 8],
    };

    /// <summary>Fits every (family, architecture) group that has rows, leaving out the rows <paramref name="exclude"/> names.</summary>
    public static IReadOnlyList<FittedRates> Fit(IReadOnlyList<ReferenceRow> rows, Func<string, GpuSpec> gpuOf, Func<ReferenceRow, bool>? exclude = null)
    {
        var groups = Mapped(rows.Where(r => exclude?.Invoke(r) != true))
            .GroupBy(m => (Group: GroupOf(m.Setting.Kernel), Arch: ArchOf(m.Gpu)))
            .OrderBy(g => g.Key.Group, StringComparer.Ordinal).ThenBy(g => g.Key.Arch, StringComparer.Ordinal);
        var fitted = new List<FittedRates>();
        foreach (var group in groups)
        {
            var members = group.ToList();
            (double Loss, KernelRates Rates, double[] Ratios)? best = null;
            foreach (var perBlock in PerBlockGrid)
                foreach (var resident in Residencies(group.Key.Group, group.Key.Arch))
                {
                    // The makespan without fixed times, and whether the launch split (so pays the reduction).
                    var bare = members.Select(m => Predict(m, new KernelRates(perBlock, resident, 0, 0), gpuOf)).ToArray();
                    var split = members.Select((m, i) => Predict(m, new KernelRates(perBlock, resident, 0, 1000), gpuOf) > bare[i] + 1).ToArray();
                    foreach (var launch in LaunchGrid)
                        foreach (var reduction in ReductionGrid)
                        {
                            var ratios = new double[members.Count];
                            double sum = 0, worst = 0;
                            for (var i = 0; i < members.Count; i++)
                            {
                                ratios[i] = (bare[i] + launch + (split[i] ? reduction : 0)) / members[i].Row.TimeUs;
                                var error = Math.Abs(Math.Log(ratios[i]));
                                sum += error;
                                worst = Math.Max(worst, error);
                            }
                            var loss = sum + 2 * worst;
                            if (best is null || loss < best.Value.Loss - 1e-12)
                                best = (loss, new KernelRates(perBlock, resident, launch, reduction), ratios);
                        }
                }
            // Reported as the accuracy summary reports them: |predicted / measured - 1|.
            var abs = best!.Value.Ratios.Select(r => Math.Abs(r - 1)).Order().ToArray();
            fitted.Add(new FittedRates(group.Key.Group, group.Key.Arch, best.Value.Rates, members.Count, Median(abs), abs[^1]));
        }
        return fitted;
    }

    /// <summary>A GPU with the fitted rates of its architecture in place of its catalog ones.</summary>
    public static GpuSpec WithRates(GpuSpec gpu, string gpuName, IReadOnlyList<FittedRates> fitted)
    {
        var arch = ArchOf(gpuName);
        KernelRates? Of(string group, KernelRates? current) => fitted.FirstOrDefault(f => f.Arch == arch && f.Family == group)?.Rates ?? current;
        var k = gpu.AttentionKernels ?? new AttentionKernelRates();
        return gpu with
        {
            AttentionKernels = new AttentionKernelRates(Of("paged", k.Paged), Of("fa2", k.Fa2), Of("split_kv", k.SplitKv), Of("flashinfer", k.Flashinfer)),
        };
    }

    public static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    private sealed record Member(ReferenceRow Row, string Gpu, KernelSetting Setting);

    private static IEnumerable<Member> Mapped(IEnumerable<ReferenceRow> rows)
    {
        foreach (var row in rows)
            if (ReferenceMapping.GpuOf(row.Gpu).Gpu is { } gpu && ReferenceMapping.KernelOf(row.Kernel) is { } setting && row.QHeads % row.KvHeads == 0)
                yield return new Member(row, gpu, setting);
    }

    private static double Predict(Member m, KernelRates rates, Func<string, GpuSpec> gpuOf)
    {
        var gpu = gpuOf(m.Gpu);
        var group = GroupOf(m.Setting.Kernel);
        var k = new AttentionKernelRates(
            group == "paged" ? rates : null, group == "fa2" ? rates : null, group == "split_kv" ? rates : null, group == "flashinfer" ? rates : null);
        return AccuracyEvaluator.Predict(m.Row, gpu with { AttentionKernels = k }, m.Setting).PredictedUs;
    }
}
