using System.Reflection;
using KernelMm.Harness.Scripting;
using KernelMm.Model;
using KernelMm.Model.Mm;

namespace KernelMm.Harness.Tests.Docs;

/// <summary>docs/scenario-api.md names every public member of the script types, every flag and every errno.</summary>
public class ApiReferenceTests
{
    /// <summary>The types a scenario is handed or names.</summary>
    private static readonly Type[] ScriptTypes =
    [
        typeof(ScenarioGlobals), typeof(KernelFacade), typeof(ScriptProcess), typeof(ScriptMemcg), typeof(ScriptModule),
        typeof(SetMemoryFacade), typeof(SysctlFacade), typeof(MemcgFacade), typeof(Lookup), typeof(AppliedPatches),
        typeof(Addr), typeof(ScriptVma), typeof(ScriptPagemap), typeof(Sizes),
    ];

    private static readonly Type[] Enums = [typeof(MapFlags), typeof(MremapFlags), typeof(Prot), typeof(Access), typeof(Advice), typeof(Errno)];

    private static string Reference()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KernelMmHarness.sln")))
            dir = dir.Parent;
        Assert.That(dir, Is.Not.Null, "the clone's root");
        return File.ReadAllText(Path.Combine(dir!.FullName, "docs", "scenario-api.md"));
    }

    public static IEnumerable<string> Members() =>
        ScriptTypes.SelectMany(t => t.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(m => m is PropertyInfo or MethodInfo { IsSpecialName: false } && m.GetCustomAttribute<System.ComponentModel.EditorBrowsableAttribute>() is null)
            .Select(m => m.Name == "Item" ? $"{t.Name}.this" : $"{t.Name}.{m.Name}"))
        .Distinct();

    [TestCaseSource(nameof(Members))]
    public void Every_public_member_of_the_script_types_is_in_the_reference(string member)
    {
        string name = member[(member.IndexOf('.') + 1)..];
        string text = Reference();
        Assert.That(text.Contains($"`{name}", StringComparison.Ordinal) || text.Contains($" {name}(", StringComparison.Ordinal)
            || text.Contains($".{name}(", StringComparison.Ordinal)
            || (name == "this" && text.Contains("this[name]", StringComparison.Ordinal)),
            Is.True, $"docs/scenario-api.md does not name {member}");
    }

    [Test]
    public void Every_script_type_flag_and_errno_is_in_the_reference()
    {
        string text = Reference();
        Assert.Multiple(() =>
        {
            foreach (var t in ScriptTypes.Concat(Enums))
                Assert.That(text, Does.Contain(t.Name), $"the type {t.Name}");
            foreach (var e in Enums)
                foreach (var name in Enum.GetNames(e))
                    Assert.That(text, Does.Contain($"`{name}`").Or.Contain($"`{name} ").Or.Contain($"{name}`").Or.Contain($"`{name}("), $"{e.Name}.{name}");
        });
    }
}
