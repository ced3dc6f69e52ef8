namespace KernelMm.Model.Mm;

/// <summary>How a process touches memory.</summary>
public enum Access
{
    Read,
    Write,
}
