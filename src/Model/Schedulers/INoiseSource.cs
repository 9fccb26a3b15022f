namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>Standard-normal noise for the stochastic schedulers (Euler ancestral, DDIM with η &gt; 0, DDPM).</summary>
public interface INoiseSource
{
    /// <summary>Fills <paramref name="destination"/> with independent N(0, 1) draws.</summary>
    void NextStandardNormal(Span<float> destination);
}
