namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Marks a static method as a device kernel, so the PTX check (<see cref="KernelRegistry"/>) compiles it exactly as
/// the launchers run it. A generic kernel carries one attribute per instantiation its launchers use, naming the
/// type arguments; a kernel with <c>SpecializedValue&lt;T&gt;</c> parameters carries one attribute per set of
/// values its launchers pass (see <see cref="Specialize"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class KernelAttribute : Attribute
{
    public KernelAttribute(params Type[] typeArguments) => TypeArguments = typeArguments;

    /// <summary>The type arguments of this instantiation (empty for a non-generic kernel).</summary>
    public Type[] TypeArguments { get; }

    /// <summary>True for a kernel launched with an explicit <c>KernelConfig</c> (groups, barriers, shared memory).</summary>
    public bool ExplicitlyGrouped { get; init; }

    /// <summary>
    /// The values of the kernel's <c>SpecializedValue&lt;T&gt;</c> parameters, in parameter order, for this
    /// instantiation: ILGPU compiles them in as constants at launch, so the PTX check compiles each set a launcher
    /// uses (e.g. <c>[Kernel(Specialize = new object[] { 16, 4 })]</c> for two <c>SpecializedValue&lt;int&gt;</c>
    /// tile sizes). Each value's type must be exactly the parameter's <c>T</c> (write <c>16L</c> for a long).
    /// Empty for a kernel without specialized parameters.
    /// </summary>
    public object[] Specialize { get; init; } = [];
}
