using System.Globalization;
using System.Reflection;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>One kernel instantiation the engine can launch.</summary>
/// <param name="Name">
/// A unique, file-name-safe name: <c>Family.Method</c>, plus the type arguments of a generic kernel and the
/// specialized values of a specialized one.
/// </param>
/// <param name="Method">The closed kernel method.</param>
/// <param name="ExplicitlyGrouped">Whether it is launched with an explicit group configuration.</param>
public sealed record KernelEntry(string Name, MethodInfo Method, bool ExplicitlyGrouped)
{
    /// <summary>
    /// The values of the method's <c>SpecializedValue&lt;T&gt;</c> parameters, in parameter order (each of type
    /// <c>T</c>); empty for a kernel without specialized parameters.
    /// </summary>
    public IReadOnlyList<object> SpecializedValues { get; init; } = [];
}

/// <summary>
/// Every kernel of this assembly with every instantiation its launchers use, found through
/// <see cref="KernelAttribute"/>. The <c>ptx</c> command compiles and assembles exactly this list.
/// </summary>
public static class KernelRegistry
{
    private static readonly Lazy<IReadOnlyList<KernelEntry>> entries = new(Discover);

    /// <summary>All registered kernel instantiations, sorted by name.</summary>
    public static IReadOnlyList<KernelEntry> All => entries.Value;

    /// <summary>
    /// Static methods of this assembly that look like kernels (their first parameter is an ILGPU index, or their
    /// name ends in "Kernel") but carry no <see cref="KernelAttribute"/>; a test keeps this empty.
    /// </summary>
    public static IReadOnlyList<MethodInfo> FindUnregistered() =>
        AllStaticMethods()
            .Where(m => LooksLikeKernel(m) && m.GetCustomAttributes<KernelAttribute>().Count() == 0)
            .ToList();

    private static IReadOnlyList<KernelEntry> Discover() => Discover(typeof(KernelRegistry).Assembly.GetTypes());

    /// <summary>The entries the <see cref="KernelAttribute"/>s of the given types' static methods describe.</summary>
    internal static IReadOnlyList<KernelEntry> Discover(IEnumerable<Type> types)
    {
        var found = new List<KernelEntry>();
        foreach (var method in StaticMethods(types))
            foreach (var attribute in method.GetCustomAttributes<KernelAttribute>())
            {
                var closed = Close(method, attribute.TypeArguments);
                CheckSpecialization(closed, attribute.Specialize);
                var name = $"{method.DeclaringType!.Name}.{method.Name}";
                if (attribute.TypeArguments.Length > 0)
                    name += "_" + string.Join("_", attribute.TypeArguments.Select(t => t.Name));
                if (attribute.Specialize.Length > 0)
                    name += "_" + string.Join("_", attribute.Specialize.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)));
                found.Add(new KernelEntry(name, closed, attribute.ExplicitlyGrouped) { SpecializedValues = attribute.Specialize });
            }
        var duplicate = found.GroupBy(e => e.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"kernel '{duplicate.Key}' is registered twice.");
        return found.OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
    }

    private static MethodInfo Close(MethodInfo method, Type[] typeArguments)
    {
        var where = $"{method.DeclaringType!.Name}.{method.Name}";
        if (method.IsGenericMethodDefinition != typeArguments.Length > 0
            || (method.IsGenericMethodDefinition && method.GetGenericArguments().Length != typeArguments.Length))
            throw new InvalidOperationException(
                $"[Kernel] on {where} names {typeArguments.Length} type argument(s); the method takes {method.GetGenericArguments().Length}.");
        return typeArguments.Length == 0 ? method : method.MakeGenericMethod(typeArguments);
    }

    /// <summary>Checks that <paramref name="values"/> holds one value of type <c>T</c> per <c>SpecializedValue&lt;T&gt;</c> parameter.</summary>
    private static void CheckSpecialization(MethodInfo method, object[] values)
    {
        var where = $"{method.DeclaringType!.Name}.{method.Name}";
        var expected = method.GetParameters()
            .Select(p => p.ParameterType)
            .Where(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(SpecializedValue<>))
            .Select(t => t.GetGenericArguments()[0])
            .ToList();
        if (values.Length != expected.Count)
            throw new InvalidOperationException(
                $"[Kernel] on {where} lists {values.Length} Specialize value(s); the method has {expected.Count} SpecializedValue parameter(s).");
        for (int i = 0; i < values.Length; i++)
            if (values[i]?.GetType() != expected[i])
                throw new InvalidOperationException(
                    $"[Kernel] on {where}: Specialize value {i} is {values[i]?.GetType().Name ?? "null"}; the parameter is SpecializedValue<{expected[i].Name}>.");
    }

    private static IEnumerable<MethodInfo> AllStaticMethods() => StaticMethods(typeof(KernelRegistry).Assembly.GetTypes());

    private static IEnumerable<MethodInfo> StaticMethods(IEnumerable<Type> types) =>
        types
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => !m.IsSpecialName && m.GetCustomAttribute<System.Runtime.CompilerServices.CompilerGeneratedAttribute>() is null);

    private static bool LooksLikeKernel(MethodInfo m)
    {
        var first = m.GetParameters().FirstOrDefault()?.ParameterType;
        return m.ReturnType == typeof(void)
            && (m.Name.EndsWith("Kernel", StringComparison.Ordinal)
                || first == typeof(Index1D) || first == typeof(Index2D) || first == typeof(Index3D)
                || first == typeof(LongIndex1D));
    }
}
