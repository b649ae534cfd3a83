using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Policies;
using Policies.Core;

namespace Policies.Tests;

public sealed class RegistryTests
{
    [Fact]
    public void Every_Policy_Class_Should_Be_Registered_Once_Under_A_Snake_Case_Name()
    {
        var implementations = typeof(IBatchPolicy).Assembly.GetTypes()
            .Where(t => typeof(IBatchPolicy).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })
            .ToList();
        var registered = PolicyRegistry.All
            .Select(p => p.Create(p.DefaultOptions(), new PolicyContext(new global::Policies.Memory.KvBlockManager(100, 16))).GetType())
            .ToList();

        Assert.Equal(implementations.OrderBy(t => t.Name), registered.OrderBy(t => t.Name));
        Assert.Equal(PolicyRegistry.Names.Count(), PolicyRegistry.Names.Distinct().Count());
        Assert.All(PolicyRegistry.Names, n => Assert.Matches("^[a-z][a-z0-9_]*$", n));
        Assert.All(implementations, t => Assert.True(t.IsSealed, $"{t.Name} should be sealed"));
    }

    [Fact]
    public void Default_Options_Should_Satisfy_Their_Own_Ranges()
    {
        foreach (var policy in PolicyRegistry.All)
        {
            var options = policy.DefaultOptions();
            foreach (var parameter in policy.OptionsType.GetConstructors().Single().GetParameters())
            {
                Assert.True(parameter.HasDefaultValue, $"{policy.Name}.{parameter.Name} needs a default");
                if (parameter.GetCustomAttribute<RangeAttribute>() is not { } range) continue;
                var value = policy.OptionsType.GetProperty(parameter.Name!)!.GetValue(options);
                Assert.True(range.IsValid(value), $"{policy.Name}.{parameter.Name} = {value} is outside its range");
            }
        }
    }
}
