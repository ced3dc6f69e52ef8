using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace KernelMm.Harness.Tests.Browser;

/// <summary>What a page did when Chromium loaded it: its screenshot, the console errors and exceptions, and every URL it requested.</summary>
public sealed record PageLoad(Png Screenshot, byte[] PngBytes, IReadOnlyList<string> Errors, IReadOnlyList<string> Requests);

/// <summary>
/// The system's Chromium (Debian's <c>chromium</c> package), headless, driven over the DevTools
/// protocol on a pipe-free loopback socket: the page is loaded at a fixed viewport, console
/// errors (<c>Runtime.consoleAPICalled</c> of type error or assert), uncaught exceptions and
/// log errors (a resource that fails to load) are collected, every request is recorded
/// (<c>Network.requestWillBeSent</c>), and a screenshot is taken.
/// </summary>
public static partial class HeadlessChromium
{
    /// <summary>The browser binary, or null when none is installed.</summary>
    public static string? Find()
    {
        foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome" })
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
                if (dir.Length > 0 && File.Exists(Path.Combine(dir, name)))
                    return Path.Combine(dir, name);
        return null;
    }

    public static PageLoad Load(string binary, string file, int width, int height, TimeSpan timeout)
    {
        string profile = Directory.CreateTempSubdirectory("kmm-chromium-").FullName;
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                     "--hide-scrollbars", "--disable-extensions", "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank" })
            psi.ArgumentList.Add(a);
        using var browser = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {binary}");
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            string ws = ReadDevToolsUrl(browser, cts.Token);
            return Drive(ws, new Uri(Path.GetFullPath(file)).AbsoluteUri, width, height, cts.Token).GetAwaiter().GetResult();
        }
        finally
        {
            if (!browser.HasExited)
                browser.Kill(entireProcessTree: true);
            browser.WaitForExit();
            try { Directory.Delete(profile, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    // Chromium prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID" on stderr.
    private static string ReadDevToolsUrl(Process browser, CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            var line = browser.StandardError.ReadLineAsync(cancel).AsTask().GetAwaiter().GetResult()
                ?? throw new InvalidOperationException("chromium exited before it listened for DevTools");
            var m = DevToolsLine().Match(line);
            if (m.Success)
            {
                // Keep draining stderr so the browser never blocks on a full pipe.
                _ = browser.StandardError.ReadToEndAsync(CancellationToken.None);
                _ = browser.StandardOutput.ReadToEndAsync(CancellationToken.None);
                return m.Groups[1].Value;
            }
        }
        throw new TimeoutException("chromium did not start in time");
    }

    private static async Task<PageLoad> Drive(string browserWs, string url, int width, int height, CancellationToken cancel)
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(browserWs), cancel);
        var cdp = new Cdp(socket);
        var target = await cdp.Call("Target.createTarget", new JsonObject { ["url"] = "about:blank" }, null, cancel);
        var attached = await cdp.Call("Target.attachToTarget", new JsonObject { ["targetId"] = target["targetId"]!.GetValue<string>(), ["flatten"] = true }, null, cancel);
        string session = attached["sessionId"]!.GetValue<string>();
        foreach (var domain in new[] { "Runtime.enable", "Log.enable", "Page.enable", "Network.enable" })
            await cdp.Call(domain, new JsonObject(), session, cancel);
        await cdp.Call("Emulation.setDeviceMetricsOverride",
            new JsonObject { ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false }, session, cancel);
        var nav = await cdp.Call("Page.navigate", new JsonObject { ["url"] = url }, session, cancel);
        if (nav["errorText"] is { } err)
            throw new InvalidOperationException($"navigating to {url}: {err}");
        await cdp.PumpUntilLoaded(cancel);
        var shot = await cdp.Call("Page.captureScreenshot", new JsonObject { ["format"] = "png" }, session, cancel);
        var bytes = Convert.FromBase64String(shot["data"]!.GetValue<string>());
        return new PageLoad(Png.Decode(bytes), bytes, cdp.Errors, cdp.Requests);
    }

    /// <summary>A minimal DevTools protocol client: numbered calls, and the events the load needs.</summary>
    private sealed class Cdp(ClientWebSocket socket)
    {
        private int _id;

        public List<string> Errors { get; } = [];
        public List<string> Requests { get; } = [];
        private bool _loaded;

        /// <summary>Reads events until the page's load event (it may have come during an earlier call).</summary>
        public async Task PumpUntilLoaded(CancellationToken cancel)
        {
            while (!_loaded)
                Event(await Receive(cancel));
        }

        public async Task<JsonNode> Call(string method, JsonObject parameters, string? session, CancellationToken cancel)
        {
            int id = ++_id;
            var msg = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
            if (session is not null)
                msg["sessionId"] = session;
            await socket.SendAsync(Encoding.UTF8.GetBytes(msg.ToJsonString()), WebSocketMessageType.Text, true, cancel);
            while (true)
            {
                var reply = await Receive(cancel);
                if (reply["id"]?.GetValue<int>() == id)
                    return reply["error"] is { } e ? throw new InvalidOperationException($"{method}: {e.ToJsonString()}") : reply["result"]!;
                Event(reply);
            }
        }

        private void Event(JsonNode e)
        {
            var p = e["params"];
            switch (e["method"]?.GetValue<string>())
            {
                case "Runtime.consoleAPICalled" when p!["type"]!.GetValue<string>() is "error" or "assert":
                    Errors.Add("console." + p["type"] + ": " + string.Join(' ', p["args"]!.AsArray().Select(a => a?["value"]?.ToString() ?? a?["description"]?.ToString())));
                    break;
                case "Runtime.exceptionThrown":
                    Errors.Add("exception: " + p!["exceptionDetails"]?["text"] + " " + p["exceptionDetails"]?["exception"]?["description"]);
                    break;
                case "Log.entryAdded" when p!["entry"]!["level"]!.GetValue<string>() == "error":
                    Errors.Add("log: " + p["entry"]!["text"] + " " + p["entry"]!["url"]);
                    break;
                case "Network.requestWillBeSent":
                    Requests.Add(p!["request"]!["url"]!.GetValue<string>());
                    break;
                case "Page.loadEventFired":
                    _loaded = true;
                    break;
            }
        }

        private async Task<JsonNode> Receive(CancellationToken cancel)
        {
            var buffer = new byte[1 << 16];
            using var ms = new MemoryStream();
            while (true)
            {
                var r = await socket.ReceiveAsync(buffer, cancel);
                if (r.MessageType == WebSocketMessageType.Close)
                    throw new InvalidOperationException("DevTools closed the connection");
                ms.Write(buffer, 0, r.Count);
                if (r.EndOfMessage)
                    return JsonNode.Parse(ms.ToArray())!;
            }
        }
    }

    [GeneratedRegex(@"DevTools listening on (ws://\S+)")]
    private static partial Regex DevToolsLine();
}
