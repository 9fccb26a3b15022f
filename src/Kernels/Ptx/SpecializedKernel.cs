using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.IR;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Compiles a kernel with <c>SpecializedValue&lt;T&gt;</c> parameters the way ILGPU 1.5.3 does at launch
/// (<c>SpecializationCache.SpecializeKernel</c>): the kernel is lowered to IR once, then a wrapper entry point with
/// the kernel's full parameter list calls it with each specialized parameter replaced by a constant, so inlining
/// and constant folding build the values in (loop bounds, shared-memory sizes). The entry point keeps the original
/// parameter layout, as the launcher's argument mapping expects.
/// </summary>
internal static class SpecializedKernel
{
    public static CompiledKernel Compile(Backend backend, in EntryPointDescription description, KernelEntry entry)
    {
        var parameters = description.Parameters.SpecializedParameters;
        if (parameters.Length != entry.SpecializedValues.Count)
            throw new InvalidOperationException(
                $"kernel '{entry.Name}' has {parameters.Length} SpecializedValue parameter(s) but {entry.SpecializedValues.Count} value(s) to compile with.");
        var constants = new object[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            var value = entry.SpecializedValues[i];
            if (value.GetType() != parameters[i].ParameterType)
                throw new InvalidOperationException(
                    $"kernel '{entry.Name}': specialized value {i} is {value.GetType().Name}; the parameter is SpecializedValue<{parameters[i].ParameterType.Name}>.");
            constants[i] = Activator.CreateInstance(parameters[i].SpecializedType, value)!;
        }

        var kernel = backend.PreCompileKernelMethod(description);
        using var wrapperContext = kernel.ExtractToContext(out var kernelCopy);
        var wrapper = BuildWrapper(wrapperContext, kernelCopy, description, constants);
        wrapperContext.Optimize();
        return backend.Compile(wrapper, description, default(KernelSpecialization));
    }

    /// <summary>A void method taking the kernel's parameters that calls it with the specialized ones replaced by constants.</summary>
    private static Method BuildWrapper(IRContext irContext, Method kernel, in EntryPointDescription description, object[] constants)
    {
        var wrapper = irContext.Declare(new MethodDeclaration(MethodHandle.Create("SpecializedWrapper"), irContext.VoidType), out _);
        kernel.AddFlags(MethodFlags.Inline);
        var specialized = description.Parameters.SpecializedParameters;
        using (var methodBuilder = wrapper.CreateBuilder())
        {
            var location = wrapper.Location;
            var block = methodBuilder.EntryBlockBuilder;
            var call = block.CreateCall(location, kernel);
            for (int i = 0, next = 0; i < kernel.NumParameters; i++)
            {
                var parameter = kernel.Parameters[i];
                var forwarded = methodBuilder.AddParameter(parameter.Type, parameter.Name);
                bool isSpecialized = next < specialized.Length
                    && specialized[next].Index == i - description.KernelIndexParameterOffset;
                call.Add(isSpecialized ? block.CreateObjectValue(location, constants[next++]) : forwarded);
            }
            call.Seal();
            block.CreateReturn(location);
            methodBuilder.Complete();
        }
        return wrapper;
    }
}
