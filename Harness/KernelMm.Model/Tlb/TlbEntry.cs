using KernelMm.Model.Paging;

namespace KernelMm.Model.Tlb;

/// <summary>
/// A cached translation: what a CPU will use for <see cref="Translation.VirtualBase"/> until
/// it is flushed, whatever the tables say by then.
/// </summary>
/// <param name="Cpu">The CPU that holds it.</param>
/// <param name="Translation">The translation as it was when the CPU walked the tables.</param>
/// <param name="Global">Whether the entry survives a CR3 switch (_PAGE_GLOBAL).</param>
public readonly record struct TlbEntry(int Cpu, Translation Translation, bool Global);
