using System.CommandLine;
using RealRunner.Checks;
using Spectre.Console;

namespace RealRunner.Cli;

/// <summary><c>selfcheck</c>: every kernel and variant against its C# reference on the chosen backend; exit 1 on any mismatch.</summary>
public static class SelfCheckCommand
{
    public static Command Build()
    {
        var backend = Common.BackendOption();
        var scale = new Option<int>("--scale") { Description = "Lengthen the longest contexts by this factor (default 1)", DefaultValueFactory = _ => 1 };
        var command = new Command("selfcheck", "Run every kernel against its reference on the device; exit 1 on a mismatch") { backend, scale };
        command.SetAction(parsed => Common.Guard(() =>
        {
            using var session = Common.Open(parsed.GetValue(backend));
            var table = new Table().AddColumns("kernel", "variant", "shape", "elements", "max abs error", "max rel error", "result");
            var failed = 0;
            foreach (var r in KernelChecks.All(session.Primary, Math.Max(1, parsed.GetValue(scale))))
            {
                if (!r.Ok) failed++;
                table.AddRow(r.Kernel, r.Variant, Markup.Escape(r.Shape), $"{r.Elements}", $"{r.MaxAbsError:E2}", $"{r.MaxRelError:E2}",
                    r.Ok ? "[green]ok[/]" : $"[red]{Markup.Escape(r.Failure!)}[/]");
            }
            AnsiConsole.Write(table);
            Console.WriteLine(failed == 0 ? "selfcheck: every kernel matches its reference" : $"selfcheck: {failed} kernel checks FAILED");
            return failed == 0 ? Common.Ok : Common.Failure;
        }));
        return command;
    }
}
