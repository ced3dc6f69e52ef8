namespace KernelMm.Model.Mm;

/// <summary>
/// The end of zap_pte_range for one PTE table: the zap covered [<paramref name="Start"/>,
/// <paramref name="End"/>) of the 2M the table maps (clipped to the VMA and to the range
/// asked for), on behalf of <paramref name="Caller"/>. <paramref name="AnySkipped"/> says
/// whether an entry in that range was left in place (the model zaps every entry of
/// anonymous private memory, so it is false today; the seam carries it for callers that
/// keep markers).
/// </summary>
public readonly record struct PteTableZap(ZapCaller Caller, ulong Start, ulong End, long PtePfn, bool AnySkipped);
