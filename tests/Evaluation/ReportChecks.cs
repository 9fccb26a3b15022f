using System.Xml.Linq;

namespace IlgpuDiffusion.Tests.Evaluation;

/// <summary>Checks an evaluation folder's report: well-formed XHTML, and every href/src a relative path to an existing file.</summary>
internal static class ReportChecks
{
    public static XDocument ParseAndCheckLinks(string folder)
    {
        string html = File.ReadAllText(Path.Combine(folder, "report.html"));
        Assert.StartsWith("<!DOCTYPE html>", html);
        var document = XDocument.Parse(html[html.IndexOf("<html", StringComparison.Ordinal)..]);
        var links = document.Descendants().Attributes().Where(a => a.Name.LocalName is "href" or "src").Select(a => a.Value).ToList();
        Assert.NotEmpty(links);
        foreach (var link in links)
        {
            Assert.False(Path.IsPathRooted(link) || link.Contains("://", StringComparison.Ordinal), $"not a relative link: {link}");
            Assert.True(File.Exists(Path.Combine(folder, link)), $"report links to a missing file: {link}");
        }
        return document;
    }
}
