using System.Runtime.CompilerServices;
using ILGPU;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// A fixed-capacity block of a thread's float registers, built by composition (<see cref="Register"/>,
/// <see cref="RegisterPair{TA, TB}"/>) so that every element sits at a constant offset. ILGPU 1.5.3 does not unroll
/// loops (its LoopUnrolling pass is disabled), so a local array indexed in a loop would live in local memory; a
/// composed block has no loop and no index, ptxas keeps it in registers. Every operation acts on elements
/// t &lt; <c>count</c> only, t counted from <c>first</c> (the block's first element within the outermost block); with
/// <c>count</c> a specialized constant the guards fold away and the unused registers vanish.
/// </summary>
internal interface IRegisterBlock<T> where T : struct, IRegisterBlock<T>
{
    /// <summary>The number of elements.</summary>
    int Capacity { get; }

    /// <summary>this[t] = source[index + step·t].</summary>
    void Load(ArrayView<float> source, int index, int step, int first, int count);

    /// <summary>target[index + step·t] = scale · this[t].</summary>
    void Store(ArrayView<float> target, int index, int step, float scale, int first, int count);

    /// <summary>this[t] += w · x[t].</summary>
    void AddScaled(float w, ref T x, int first, int count);

    /// <summary>this[t] *= scale.</summary>
    void Scale(float scale, int first, int count);

    /// <summary>this[t] = scale · this[t] where low ≤ key + keyStep·t &lt; high, else −∞.</summary>
    void Mask(float scale, int key, int keyStep, int low, int high, int first, int count);

    /// <summary>The largest this[t] (−∞ for none).</summary>
    float Max(int first, int count);

    /// <summary>this[t] = exp(this[t] − max); returns Σ_t this[t].</summary>
    float ExpSum(float max, int first, int count);

    /// <summary>
    /// this[t] = exp(scale · this[t] − logSumExp[stat + statStep·t]) where low ≤ key + keyStep·t &lt; high, else 0:
    /// the attention probability recomputed from a score and its row's saved logsumexp.
    /// </summary>
    void Probabilities(float scale, ArrayView<float> logSumExp, int stat, int statStep, int key, int keyStep,
        int low, int high, int first, int count);

    /// <summary>this[t] = p[t] · (this[t] − delta[stat + statStep·t]): dS from dP, P and D.</summary>
    void ScoreGrads(ref T p, ArrayView<float> delta, int stat, int statStep, int first, int count);
}

/// <summary>One register: the leaf of a <see cref="IRegisterBlock{T}"/>.</summary>
internal struct Register : IRegisterBlock<Register>
{
    public float Value;

    public readonly int Capacity
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Load(ArrayView<float> source, int index, int step, int first, int count)
    {
        if (first < count) Value = source[index + step * first];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(ArrayView<float> target, int index, int step, float scale, int first, int count)
    {
        if (first < count) target[index + step * first] = scale * Value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddScaled(float w, ref Register x, int first, int count)
    {
        if (first < count) Value += w * x.Value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Scale(float scale, int first, int count)
    {
        if (first < count) Value *= scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Mask(float scale, int key, int keyStep, int low, int high, int first, int count)
    {
        int k = key + keyStep * first;
        if (first < count) Value = k >= low && k < high ? scale * Value : float.NegativeInfinity;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Max(int first, int count) => first < count ? Value : float.NegativeInfinity;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float ExpSum(float max, int first, int count)
    {
        if (first >= count) return 0f;
        Value = MathF.Exp(Value - max);
        return Value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Probabilities(float scale, ArrayView<float> logSumExp, int stat, int statStep, int key, int keyStep,
        int low, int high, int first, int count)
    {
        if (first >= count) return;
        int k = key + keyStep * first;
        float p = MathF.Exp(scale * Value - logSumExp[stat + statStep * first]);
        Value = k >= low && k < high ? p : 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ScoreGrads(ref Register p, ArrayView<float> delta, int stat, int statStep, int first, int count)
    {
        if (first < count) Value = p.Value * (Value - delta[stat + statStep * first]);
    }
}

/// <summary>Two register blocks side by side: elements [0, A.Capacity) are in A, the rest in B.</summary>
internal struct RegisterPair<TA, TB> : IRegisterBlock<RegisterPair<TA, TB>>
    where TA : struct, IRegisterBlock<TA>
    where TB : struct, IRegisterBlock<TB>
{
    public TA A;
    public TB B;

    public readonly int Capacity
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => default(TA).Capacity + default(TB).Capacity;
    }

    private static int Split
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => default(TA).Capacity;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Load(ArrayView<float> source, int index, int step, int first, int count)
    {
        A.Load(source, index, step, first, count);
        B.Load(source, index, step, first + Split, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(ArrayView<float> target, int index, int step, float scale, int first, int count)
    {
        A.Store(target, index, step, scale, first, count);
        B.Store(target, index, step, scale, first + Split, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddScaled(float w, ref RegisterPair<TA, TB> x, int first, int count)
    {
        A.AddScaled(w, ref x.A, first, count);
        B.AddScaled(w, ref x.B, first + Split, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Scale(float scale, int first, int count)
    {
        A.Scale(scale, first, count);
        B.Scale(scale, first + Split, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Mask(float scale, int key, int keyStep, int low, int high, int first, int count)
    {
        A.Mask(scale, key, keyStep, low, high, first, count);
        B.Mask(scale, key, keyStep, low, high, first + Split, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Max(int first, int count) => MathF.Max(A.Max(first, count), B.Max(first + Split, count));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float ExpSum(float max, int first, int count) => A.ExpSum(max, first, count) + B.ExpSum(max, first + Split, count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Probabilities(float scale, ArrayView<float> logSumExp, int stat, int statStep, int key, int keyStep,
        int low, int high, int first, int count)
    {
        A.Probabilities(scale, logSumExp, stat, statStep, key, keyStep, low, high, first, count);
        B.Probabilities(scale, logSumExp, stat, statStep, key, keyStep, low, high, first + Split, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ScoreGrads(ref RegisterPair<TA, TB> p, ArrayView<float> delta, int stat, int statStep, int first, int count)
    {
        A.ScoreGrads(ref p.A, delta, stat, statStep, first, count);
        B.ScoreGrads(ref p.B, delta, stat, statStep, first + Split, count);
    }
}
