using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

/// <summary>
/// Records the ops of a forward pass so <see cref="Backward"/> can replay them in reverse. A tape records only while
/// it is the current tape (<see cref="Record"/>) and only ops with an input that requires grad; inside
/// <see cref="Grad.NoGrad"/> nothing is recorded. Disposing the tape releases every tensor its nodes saved.
/// </summary>
public sealed class Tape : IDisposable
{
    [ThreadStatic] private static Tape? current;
    private readonly List<Node> nodes = new();
    private Tape? previous;
    private bool disposed;

    /// <summary>The tape ops record into on this thread, or null (no recording).</summary>
    internal static Tape? Current => Grad.IsEnabled ? current : null;

    /// <summary>Creates a tape and makes it current until it is disposed.</summary>
    public static Tape Record()
    {
        var tape = new Tape { previous = current };
        current = tape;
        return tape;
    }

    /// <summary>Number of recorded ops.</summary>
    public int Count => nodes.Count;

    internal void Add(Node node) => nodes.Add(node);

    /// <summary>
    /// Back-propagates from <paramref name="output"/> (a one-element loss unless <paramref name="seed"/> gives the
    /// output gradient), accumulating into every trainable leaf reached. The tape's nodes are released afterwards,
    /// so a tape supports one backward.
    /// </summary>
    public void Backward(Var output, Tensor? seed = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!output.RequiresGrad)
            throw new InvalidOperationException($"backward: {output} does not require grad (no trainable parameter reaches it).");
        if (seed is null && output.Value.Count != 1)
            throw new ArgumentException($"backward: output {output.Shape} is not a scalar; pass its gradient as the seed.", nameof(seed));
        if (seed is not null && !seed.Shape.Equals(output.Shape))
            throw new ArgumentException($"backward: seed {seed.Shape} does not match output {output.Shape}.", nameof(seed));

        var grads = new GradientMap();
        // A copy of the seed: gradients may be handed on without copying, so none may share the caller's tensor.
        var start = seed is null ? Ones(output.Device) : Copy(seed);
        grads.Accumulate(output, start);
        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            var node = nodes[i];
            var g = grads.Take(node.Output);
            if (g is not null)
                using (g) node.Backward(g, grads);
            node.Dispose();
        }
        nodes.Clear();
        grads.Dispose();
    }

    private static Tensor Ones(Device device)
    {
        var one = Tensor.Empty(device, DType.F32, 1);
        Elementwise.Fill(one, 1f);
        return one;
    }

    private static Tensor Copy(Tensor seed)
    {
        var copy = Tensor.Empty(seed.Device, DType.F32, seed.Shape.ToArray());
        Elementwise.Scale(seed, 1f, copy);
        return copy;
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var node in nodes) node.Dispose();
        nodes.Clear();
        if (current == this) current = previous;
    }
}
