namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// The checkpoint's tensors do not match the model built from its config: the message lists, per component, the
/// missing and unexpected tensors by name and each wrong shape with both shapes; <see cref="Reports"/> has them all.
/// </summary>
public sealed class WeightsMismatchException : Exception
{
    public WeightsMismatchException(IReadOnlyList<WeightReport> reports)
        : base("the checkpoint's tensors do not match the model:\n" + string.Join("\n", reports))
    {
        Reports = reports;
    }

    /// <summary>The reports of the components that had problems.</summary>
    public IReadOnlyList<WeightReport> Reports { get; }
}
