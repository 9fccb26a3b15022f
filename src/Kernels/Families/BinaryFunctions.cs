namespace IlgpuDiffusion.Kernels;

/// <summary>Which <see cref="IBinaryOp"/> an element-wise or broadcast launch runs.</summary>
internal enum BinaryKind
{
    Add,
    Mul,
}

/// <summary>A scalar binary op passed to kernels as a generic struct argument (ILGPU inlines it).</summary>
internal interface IBinaryOp
{
    float Apply(float a, float b);
}

/// <summary>a + b.</summary>
internal readonly struct AddOp : IBinaryOp
{
    public float Apply(float a, float b) => a + b;
}

/// <summary>a · b.</summary>
internal readonly struct MultiplyOp : IBinaryOp
{
    public float Apply(float a, float b) => a * b;
}
