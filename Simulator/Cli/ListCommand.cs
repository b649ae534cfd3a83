using System.CommandLine;
using Policies;
using Simulator.Config;
using Simulator.Specs;
using Simulator.Workload;
using Spectre.Console;

namespace Simulator.Cli;

/// <summary><c>list</c>: the catalogs (models, GPUs, nodes), the policies and the workload kinds.</summary>
public static class ListCommand
{
    public static Command Build()
    {
        var catalogDir = new Option<DirectoryInfo?>("--catalog") { Description = "Catalog folder (default: ./configs, else the shipped one)" };
        var command = new Command("list", "List hardware, models, policies and workload kinds") { catalogDir };
        command.SetAction(parsed => CliApp.Guard(() =>
        {
            var dir = parsed.GetValue(catalogDir)?.FullName
                ?? (Directory.Exists(Path.Combine("configs", "models")) ? Path.GetFullPath("configs") : null);
            Print(dir is null ? Catalog.Shipped() : new Catalog(dir));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void Print(Catalog catalog)
    {
        var binder = new ConfigBinder(catalog);
        AnsiConsole.MarkupLineInterpolated($"catalog: {catalog.Root}");

        var models = new Table().Title("models").AddColumns("name", "params (B)", "layers", "hidden", "heads/kv", "KV KiB/token", "weights GiB");
        foreach (var name in catalog.Names("models"))
        {
            var m = Load<ModelSpec>(binder, catalog, "models", name);
            models.AddRow(name, $"{m.TotalParams / 1e9:F2}", $"{m.Layers}", $"{m.Hidden}", $"{m.Heads}/{m.KvHeads}",
                $"{m.KvBytesPerToken / 1024.0:F0}", $"{m.WeightBytes / Units.GiB:F1}");
        }
        AnsiConsole.Write(models);

        var gpus = new Table().Title("hardware/gpus").AddColumns("name", "SMs", "HBM GiB", "HBM GB/s", "dense TFLOP/s", "kernel families with rates", "measured GEMM");
        foreach (var name in catalog.Names("hardware/gpus"))
        {
            var g = Load<GpuSpec>(binder, catalog, "hardware/gpus", name);
            var k = g.AttentionKernels;
            var families = new[] { ("paged", k?.Paged), ("fa2", k?.Fa2), ("split_kv", k?.SplitKv), ("flashinfer", k?.Flashinfer) }
                .Where(f => f.Item2 is not null).Select(f => f.Item1).Prepend("per_head");
            gpus.AddRow(name, $"{g.SmCount}", $"{g.HbmCapacityGib:F1}", $"{g.HbmBandwidthGbPerS:F0}", $"{g.DenseTflops:F0}", string.Join(", ", families),
                g.Gemm is null ? "no (roofline)" : "yes");
        }
        AnsiConsole.Write(gpus);

        var nodes = new Table().Title("hardware/nodes").AddColumns("name", "GPUs", "NVLink GB/s", "PCIe GB/s", "host GiB");
        foreach (var name in catalog.Names("hardware/nodes"))
        {
            var n = Load<NodeSpec>(binder, catalog, "hardware/nodes", name);
            nodes.AddRow(name, $"{n.GpuCount} x {n.Gpu.Name}", $"{n.Nvlink.BandwidthGbPerS:F0} ({ConfigNames.EnumName(n.Nvlink.Topology)})",
                $"{n.Pcie.BandwidthGbPerS:F0} (gen {n.Pcie.Generation} x{n.Pcie.Lanes})", $"{n.HostMemory.CapacityGib:F0}");
        }
        AnsiConsole.Write(nodes);

        var policies = new Table().Title("policies").AddColumns("name", "what", "options (defaults)");
        foreach (var p in PolicyRegistry.All)
            policies.AddRow(p.Name, p.Summary, Markup.Escape(ConfigWriter.ToYaml(p.DefaultOptions()).TrimEnd()));
        AnsiConsole.Write(policies);

        var workloads = new Table().Title("workloads").AddColumns("section", "kinds");
        workloads.AddRow("workload.kind", Variants(typeof(WorkloadConfig)));
        workloads.AddRow("workload.arrival.process", Variants(typeof(ArrivalProcess)));
        workloads.AddRow("workload.prompt / output.dist", Variants(typeof(LengthDistribution)));
        AnsiConsole.Write(workloads);
    }

    private static T Load<T>(ConfigBinder binder, Catalog catalog, string folder, string name) =>
        (T)binder.Bind(typeof(T), catalog.Resolve(folder, new ScalarNode(name, true, new SourceLocation("list", 0, 0)), folder), folder)!;

    private static string Variants(Type union) => string.Join(", ", ConfigNames.Variants(union).Select(v => v.Name));
}
