// .NET WCF driver (Mono), compiled with the proxy svcutil generates from the contract
// with default options. Usage: mono driver.exe ENDPOINT SOAP_VERSION(1.1|1.2) PNG TEXT
//
// SOAP 1.1 uses BasicHttpBinding; SOAP 1.2 a CustomBinding with Soap12 text encoding,
// as a WCF client configures either port.
//
// Faults: Mono's svcutil writes no FaultContract attributes, and Mono's client runtime
// then tries to read any fault detail as WCF's own ExceptionDetail, throwing a
// SerializationException instead of a FaultException (.NET gives a FaultException).
// So the driver reads each fault the standard WCF way, as a MessageFault in a client
// message inspector, which runs before that conversion: its code, subcode and typed detail.
using System;
using System.Collections.Generic;
using System.IO;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.ServiceModel.Description;
using System.ServiceModel.Dispatcher;
using System.Text;
using System.Xml;
using soapservice.v1;

class FaultReader : IClientMessageInspector, IEndpointBehavior
{
    public Dictionary<string, object> Last;

    public object BeforeSendRequest(ref Message request, IClientChannel channel) { Last = null; return null; }

    public void AfterReceiveReply(ref Message reply, object state)
    {
        if (!reply.IsFault) return;
        var buffer = reply.CreateBufferedCopy(1 << 20);
        var fault = MessageFault.CreateFault(buffer.CreateMessage(), 1 << 20);
        var code = fault.Code.Name;
        if (fault.Code.SubCode != null) code += "." + fault.Code.SubCode.Name;
        Last = new Dictionary<string, object> { { "code", code } };
        if (fault.HasDetail)
        {
            using (var reader = fault.GetReaderAtDetailContents())
            {
                var detail = new XmlDocument();
                detail.Load(reader.ReadSubtree());
                foreach (XmlNode child in detail.DocumentElement.ChildNodes)
                    if (child is XmlElement e) Last[e.LocalName] = e.InnerText;
            }
        }
        reply = buffer.CreateMessage();
    }

    public void AddBindingParameters(ServiceEndpoint e, BindingParameterCollection p) { }
    public void ApplyClientBehavior(ServiceEndpoint e, ClientRuntime runtime) { runtime.MessageInspectors.Add(this); }
    public void ApplyDispatchBehavior(ServiceEndpoint e, EndpointDispatcher d) { }
    public void Validate(ServiceEndpoint e) { }
}

static class Driver
{
    static readonly FaultReader Faults = new FaultReader();

    static string Json(object value)
    {
        if (value == null) return "null";
        if (value is int || value is long) return value.ToString();
        if (value is IDictionary<string, object> map)
        {
            var parts = new List<string>();
            foreach (var kv in map) parts.Add(Json(kv.Key) + ":" + Json(kv.Value));
            return "{" + string.Join(",", parts) + "}";
        }
        if (value is IList<object> list)
        {
            var parts = new List<string>();
            foreach (var item in list) parts.Add(Json(item));
            return "[" + string.Join(",", parts) + "]";
        }
        var b = new StringBuilder("\"");
        foreach (char c in value.ToString())
        {
            if (c == '"' || c == '\\') b.Append('\\').Append(c);
            else if (c < 0x20) b.AppendFormat("\\u{0:x4}", (int)c);
            else b.Append(c);
        }
        return b.Append('"').ToString();
    }

    static Dictionary<string, object> Fault(Action call)
    {
        try { call(); }
        catch (Exception) when (Faults.Last != null) { return Faults.Last; }
        throw new Exception("expected a fault");
    }

    static int Main(string[] args)
    {
        var endpoint = new EndpointAddress(args[0]);
        Binding binding = args[1] == "1.2"
            ? new CustomBinding(
                new TextMessageEncodingBindingElement(MessageVersion.Soap12, Encoding.UTF8),
                new HttpTransportBindingElement())
            : (Binding)new BasicHttpBinding();
        var api = new SoapServicePortTypeClient(binding, endpoint);
        api.Endpoint.Behaviors.Add(Faults);

        var report = new Dictionary<string, object>();
        report["greet"] = api.Greet("Ada");
        var t0 = api.GetTime(null);
        report["time_default"] = new Dictionary<string, object> {
            { "timezone", t0.timezone }, { "utc", t0.utc.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ") } };
        var t1 = api.GetTime("Asia/Kolkata");
        // DataContract maps xs:dateTime to DateTime, which keeps no offset: an instant.
        report["time_zone"] = new Dictionary<string, object> {
            { "timezone", t1.timezone }, { "local", t1.local.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ") } };
        var echo = new List<object>();
        foreach (var p in new[] { new object[] { "Zo\u00eb", "\u00d1\u00fa\u00f1ez-\u674e", 0 }, new object[] { "Ada", "Lovelace", 150 } })
        {
            var back = api.EchoPerson(new Person { first_name = (string)p[0], last_name = (string)p[1], age = (int)p[2] });
            echo.Add(new List<object> { back.first_name, back.last_name, back.age });
        }
        report["echo"] = echo;
        var receipt = api.UploadImage("picture.png", File.ReadAllBytes(args[2]), null);  // byte[]
        report["upload"] = new Dictionary<string, object> {
            { "sha256", receipt.sha256 }, { "size_bytes", receipt.size_bytes }, { "format", receipt.format },
            { "width", receipt.width }, { "height", receipt.height } };
        report["fault_validation"] = Fault(() => api.Greet(" "));
        report["fault_age"] = Fault(() => api.EchoPerson(new Person { first_name = "A", last_name = "B", age = 200 }));
        report["fault_zone"] = Fault(() => api.GetTime("Mars/Olympus_Mons"));
        report["fault_image"] = Fault(() => api.UploadImage("n.png", File.ReadAllBytes(args[3]), null));
        Console.WriteLine(Json(report));
        return 0;
    }
}
