using Simulator.Calibration;
using Simulator.Config;
using Simulator.Runs;

namespace Simulator.Tests.Calibration;

public sealed class CalibrationTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "calibration", name);

    [Fact]
    public void Calibration_File_And_Tables_Should_Load()
    {
        var tables = CalibrationTables.Load(Fixture("calibration.yaml"));

        Assert.Equal("test device", tables.Config.Device);
        Assert.Equal(3, tables.Attention.Count);
        Assert.Equal(new AttentionSample("split_kv", 32, 1024, 8192, 210.25), tables.Attention[2]);
        Assert.Equal(new DenseSample(4096, 1900), tables.Dense[2]);
        Assert.Equal(new LinkSample("peer", 1_073_741_824, 2750), tables.Links[2]);
    }

    [Fact]
    public void Named_Calibration_Should_Replace_The_Catalog_Gpu_Parameters()
    {
        var config = ExperimentLoader.Load(RepoPaths.Quickstart, [$"cost_model.calibration={Fixture("calibration.yaml")}"]);

        var (calibrated, tables) = PreparedRun.Calibrate(config);

        Assert.NotNull(tables);
        Assert.Equal(1500, calibrated.Node.Gpu.HbmBandwidthGbPerS);
        Assert.Equal(12.5, calibrated.Node.Gpu.PerBlockBandwidthGbPerS);
        Assert.Equal(config.Node.Gpu.DenseTflops, calibrated.Node.Gpu.DenseTflops);
    }

    [Fact]
    public void Malformed_Table_Row_Should_Name_File_And_Line()
    {
        using var dir = new TempDir();
        foreach (var name in new[] { "calibration.yaml", "dense.csv", "links.csv" }) File.Copy(Fixture(name), Path.Combine(dir.Path, name));
        dir.File("attention.csv", "kernel,batch,kv_mean,kv_max,time_us\nper_head,8,512,512,40.5\nflash,8,512,512,1\n");

        var e = Assert.Throws<ConfigException>(() => CalibrationTables.Load(Path.Combine(dir.Path, "calibration.yaml")));

        Assert.Equal(3, e.Location!.Line);
        Assert.Contains("'kernel' must be one of per_head, split_kv", e.Message);
    }
}
