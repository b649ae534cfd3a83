using Simulator.Config;

namespace Simulator.Tests.Config;

public sealed class YamlReaderTests
{
    private static ConfigException Fails(string yaml) => Assert.Throws<ConfigException>(() => YamlReader.ReadDocument(yaml, "f.yaml"));

    [Theory]
    [InlineData("a: &x [*x]\n", "recursive alias")]
    [InlineData("a: &x { b: { c: *x } }\n", "recursive alias")]
    [InlineData("a: *nowhere\n", "no anchor")]
    [InlineData("a: !!str x\n", "tags")]
    [InlineData("a: { b: 1\n", "invalid YAML")]
    [InlineData("a: [1, 2\n", "invalid YAML")]
    [InlineData("? [a]\n: 1\n", "plain key")]
    [InlineData("a: 1\na: 2\n", "duplicate key")]
    public void Bad_Yaml_Should_Be_A_Config_Error_At_Its_Position(string yaml, string expected)
    {
        var e = Fails(yaml);
        Assert.Equal("f.yaml", e.Location!.File);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Alias_Bomb_Should_Stop_At_The_Node_Budget_When_Aliases_Multiply()
    {
        // Given nine levels of nine aliases each (9^9 values when expanded)
        var lines = new List<string> { "l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1]" };
        for (var i = 1; i < 9; i++) lines.Add($"l{i}: &l{i} [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 9))}]");
        // When read, Then it is refused quickly instead of hanging
        Assert.Contains("expands to more than", Fails(string.Join("\n", lines)).Message);
    }

    [Fact]
    public void Deep_Nesting_Should_Be_Refused_When_Past_The_Bound()
    {
        var deep = "a: " + new string('[', 5000) + new string(']', 5000) + "\n";
        Assert.Contains("nested deeper", Fails(deep).Message);
    }

    [Fact]
    public void Aliases_Should_Be_Expanded_When_Bounded()
    {
        var map = YamlReader.ReadDocument("x: &l { dist: fixed, value: 3 }\ny: *l\n", "f.yaml");
        Assert.Equal(map["x"], map["y"]);
    }
}
