namespace IlgpuDiffusion.CLora.Training;

/// <summary>The training data of a run: one micro-batch per draw index, a pure function of the index.</summary>
public interface IBatchSource
{
    /// <summary>The micro-batch of draw <paramref name="draw"/> (0, 1, …); the caller owns its tensors.</summary>
    CLoraBatch Next(long draw);
}
