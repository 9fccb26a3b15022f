using System.Runtime.CompilerServices;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// A tuned variant that is trusted on a device only after it has agreed there with a reference variant (normally the
/// op's portable kernel). The first time the dispatcher asks it about a device (a <see cref="KernelVariant{TArgs}.Supports"/>
/// call the candidate itself accepts), it runs <c>probe</c> twice on that device, launching the reference and then
/// the candidate, and compares the outputs: when the relative error ‖candidate − reference‖₂ / ‖reference‖₂ exceeds
/// the bound, is not finite, or the candidate throws, the variant switches itself off on that device with a warning
/// on the log (standard error by default) and the dispatcher falls through to its next variant. The verdict is kept
/// per device for the device's lifetime.
/// </summary>
/// <remarks>
/// For paths no test can run: inline PTX (tensor cores) never runs on the CPU accelerator, so a wrong fragment
/// layout or a driver that mis-compiles it must not silently corrupt results on the first GPU that runs it.
/// </remarks>
public sealed class SelfCheckedVariant<TArgs>
{
    private readonly KernelVariant<TArgs> candidate;
    private readonly KernelVariant<TArgs> reference;
    private readonly Func<Device, Action<Device, TArgs>, float[]> probe;
    private readonly double bound;
    private readonly TextWriter? log;
    private readonly ConditionalWeakTable<Device, StrongBox<bool>> verdicts = new();
    private readonly Lock gate = new();

    /// <param name="candidate">The variant to guard.</param>
    /// <param name="reference">The variant it must agree with.</param>
    /// <param name="probe">
    /// Runs the given launch on a fixed, small problem on the device (fresh inputs each call, the same every call)
    /// and returns the output.
    /// </param>
    /// <param name="bound">The largest relative error accepted.</param>
    /// <param name="log">Where the warning goes; null for <see cref="Console.Error"/> at the time of the check.</param>
    public SelfCheckedVariant(
        KernelVariant<TArgs> candidate, KernelVariant<TArgs> reference, Func<Device, Action<Device, TArgs>, float[]> probe,
        double bound, TextWriter? log = null)
    {
        this.candidate = candidate;
        this.reference = reference;
        this.probe = probe;
        this.bound = bound;
        this.log = log;
        Variant = candidate with { Supports = (device, args) => candidate.Supports(device, args) && Passes(device) };
    }

    /// <summary>The guarded variant to list in a dispatcher: the candidate, supported only where it passed its check.</summary>
    public KernelVariant<TArgs> Variant { get; }

    /// <summary>Whether the candidate agrees with the reference on <paramref name="device"/>; checked on the first call per device.</summary>
    public bool Passes(Device device)
    {
        lock (gate)
        {
            if (!verdicts.TryGetValue(device, out var verdict))
            {
                verdict = new StrongBox<bool>(Check(device));
                verdicts.Add(device, verdict);
            }
            return verdict.Value;
        }
    }

    private bool Check(Device device)
    {
        string problem;
        try
        {
            var expected = probe(device, reference.Launch);
            var actual = probe(device, candidate.Launch);
            double error = RelativeError(actual, expected);
            if (error <= bound) return true;
            problem = $"relative error {error:E2} against {reference.Name}, bound {bound:E0}";
        }
        catch (Exception e)
        {
            // Whatever the candidate throws (a launch or JIT failure, a driver error) disqualifies it on this device.
            problem = $"{e.GetType().Name}: {e.Message}";
        }
        (log ?? Console.Error).WriteLine(
            $"warning: kernel variant '{candidate.Name}' failed its self-check on {device} ({problem}); it is switched off on this device.");
        return false;
    }

    /// <summary>‖actual − expected‖₂ / ‖expected‖₂; NaN when the lengths differ or a value is not finite.</summary>
    private static double RelativeError(float[] actual, float[] expected)
    {
        if (actual.Length != expected.Length) return double.NaN;
        double difference = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = (double)actual[i] - expected[i];
            difference += d * d;
            norm += (double)expected[i] * expected[i];
        }
        return Math.Sqrt(difference) / Math.Max(Math.Sqrt(norm), double.Epsilon);
    }
}
