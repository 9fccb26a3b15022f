namespace IlgpuDiffusion.Autograd;

/// <summary>Switches gradient recording off for a scope (inference), like torch.no_grad().</summary>
public static class Grad
{
    [ThreadStatic] private static int disabledDepth;

    /// <summary>True unless inside a <see cref="NoGrad"/> scope on this thread.</summary>
    public static bool IsEnabled => disabledDepth == 0;

    /// <summary>Within the returned scope no op is recorded, so activations are released as soon as the caller drops them.</summary>
    public static IDisposable NoGrad() => new Scope();

    private sealed class Scope : IDisposable
    {
        private bool disposed;

        public Scope() => disabledDepth++;

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            disabledDepth--;
        }
    }
}
