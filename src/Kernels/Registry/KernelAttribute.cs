namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Marks a static method as a device kernel, so the PTX check (<see cref="KernelRegistry"/>) compiles it exactly as
/// the launchers run it. A generic kernel carries one attribute per instantiation its launchers use, naming the
/// type arguments.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class KernelAttribute : Attribute
{
    public KernelAttribute(params Type[] typeArguments) => TypeArguments = typeArguments;

    /// <summary>The type arguments of this instantiation (empty for a non-generic kernel).</summary>
    public Type[] TypeArguments { get; }

    /// <summary>True for a kernel launched with an explicit <c>KernelConfig</c> (groups, barriers, shared memory).</summary>
    public bool ExplicitlyGrouped { get; init; }
}
