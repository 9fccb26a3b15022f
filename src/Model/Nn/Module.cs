using IlgpuDiffusion.Autograd;

namespace IlgpuDiffusion.Model.Nn;

/// <summary>
/// A building block of a model: it owns its parameters and its child modules, and disposes them with itself.
/// Parameters carry their full diffusers names (e.g. <c>down_blocks.0.resnets.1.conv1.weight</c>), so a trainer or
/// an exporter finds them by name. Loaded weights are frozen (<see cref="Var.Constant"/>) unless a trainer replaces one.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<(string Name, Var Value)> parameters = [];
    private readonly List<Module> children = [];
    private bool disposed;

    /// <summary>This module's own parameters and those of every descendant, with their full names.</summary>
    public IEnumerable<(string Name, Var Value)> NamedParameters()
    {
        foreach (var p in parameters) yield return p;
        foreach (var child in children)
            foreach (var p in child.NamedParameters()) yield return p;
    }

    /// <summary>Every descendant module (depth-first), for hooks such as LoRA adapters.</summary>
    public IEnumerable<Module> Descendants()
    {
        foreach (var child in children)
        {
            yield return child;
            foreach (var d in child.Descendants()) yield return d;
        }
    }

    /// <summary>Registers a parameter this module owns.</summary>
    protected Var AddParameter(string fullName, Var value)
    {
        parameters.Add((fullName, value));
        return value;
    }

    /// <summary>Replaces an owned parameter (e.g. a frozen weight by a trainable copy); the old one is disposed.</summary>
    protected Var ReplaceParameter(Var old, Var replacement)
    {
        int index = parameters.FindIndex(p => ReferenceEquals(p.Value, old));
        if (index < 0) throw new InvalidOperationException("the parameter to replace does not belong to this module.");
        parameters[index] = (parameters[index].Name, replacement);
        if (!ReferenceEquals(old.Value, replacement.Value)) old.Dispose();
        return replacement;
    }

    /// <summary>Registers a child module this module owns.</summary>
    protected T AddChild<T>(T child) where T : Module
    {
        children.Add(child);
        return child;
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var child in children) child.Dispose();
        foreach (var (_, value) in parameters) value.Dispose();
    }
}
