using IlgpuDiffusion.CLora.Library;

namespace IlgpuDiffusion.CLora.Training;

/// <summary>The console names of <see cref="TrainingMethod"/> (those of <see cref="LibraryMethod"/>) and the mapping between the two.</summary>
public static class TrainingMethods
{
    /// <summary>The names, in the order c-lora, lora, kv-finetune, token-only.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [LibraryMethods.CLoraName, LibraryMethods.LoraName, LibraryMethods.KvFinetuneName, LibraryMethods.TokenOnlyName];

    /// <summary>The method named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No method has that name.</exception>
    public static TrainingMethod Parse(string name) => name switch
    {
        LibraryMethods.CLoraName => TrainingMethod.CLora,
        LibraryMethods.LoraName => TrainingMethod.Lora,
        LibraryMethods.KvFinetuneName => TrainingMethod.KvFinetune,
        LibraryMethods.TokenOnlyName => TrainingMethod.TokenOnly,
        _ => throw new ArgumentException($"unknown training method '{name}'; expected one of {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>The method's name (c-lora, lora, kv-finetune or token-only).</summary>
    public static string Name(this TrainingMethod method) => method.ToLibraryMethod().Name();

    /// <summary>What a library of this method stores.</summary>
    public static LibraryMethod ToLibraryMethod(this TrainingMethod method) => method switch
    {
        TrainingMethod.CLora => LibraryMethod.CLora,
        TrainingMethod.Lora => LibraryMethod.Lora,
        TrainingMethod.KvFinetune => LibraryMethod.KvFinetune,
        TrainingMethod.TokenOnly => LibraryMethod.TokenOnly,
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
    };

    /// <summary>How a library of this method is trained.</summary>
    public static TrainingMethod ToTrainingMethod(this LibraryMethod method) => method switch
    {
        LibraryMethod.CLora => TrainingMethod.CLora,
        LibraryMethod.Lora => TrainingMethod.Lora,
        LibraryMethod.KvFinetune => TrainingMethod.KvFinetune,
        LibraryMethod.TokenOnly => TrainingMethod.TokenOnly,
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
    };
}
