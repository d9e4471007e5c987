// .NET WCF driver (Mono), compiled with the client class svcutil generates from the served WSDL
// with default options. Usage: mono driver.exe ENDPOINT VERSION PNG TEXT USER PASSWORD
// VERSION: 1.1 | 1.2 | Soap11WSAddressing10 | Soap12WSAddressing10
//
// Binding: Mono's svcutil writes no output.config (its Driver.cs: "//FIXME: Generate .config"),
// so the generated default constructor finds no endpoint. The driver passes the generated
// (Binding, EndpointAddress) constructor the binding the WSDL's port describes, as .NET's
// svcutil would write it to output.config: BasicHttpBinding for the SOAP 1.1 port, a
// CustomBinding of SOAP 1.2 text encoding over HTTP for the SOAP 1.2 port; HTTP Basic as
// WCF documents it (TransportCredentialOnly / AuthenticationSchemes.Basic, ClientCredentials).
//
// WS-Addressing (VERSION Soap11WSAddressing10 or Soap12WSAddressing10): the binding a WCF
// user writes for it, passed to the same generated constructor:
//   new CustomBinding(
//       new TextMessageEncodingBindingElement(MessageVersion.Soap12WSAddressing10, Encoding.UTF8),
//       new HttpTransportBindingElement { AuthenticationScheme = AuthenticationSchemes.Basic })
// The driver then also reports, through WCF's documented IClientMessageInspector (it only
// reads), the addressing headers of each request and of each reply WCF accepted ("exchanges").
//
// Faults: Mono's svcutil generates neither the fault detail types nor FaultContract
// attributes (the .NET svcutil generates both from the WSDL's wsdl:fault elements), and
// without them Mono's runtime reads any fault detail as WCF's ExceptionDetail and throws a
// SerializationException, not a FaultException (ClientRuntimeChannel.Request; proven in
// test_mono_wcf.py). So the driver carries the two detail data contracts, as the WSDL
// defines them, and declares the faults on the operation descriptions at run time, which
// is what the attribute does; WCF then raises FaultException<ValidationFaultDetail> and friends.

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

namespace soapservice.v1
{
    using System.Runtime.Serialization;

    [DataContract(Name = "ValidationFaultDetail", Namespace = "urn:soap-service:v1")]
    public class ValidationFaultDetail
    {
        [DataMember(IsRequired = true, Order = 0)] public string field { get; set; }
        [DataMember(IsRequired = true, Order = 1)] public string reason { get; set; }
    }

    [DataContract(Name = "ImageRejectedFaultDetail", Namespace = "urn:soap-service:v1")]
    public class ImageRejectedFaultDetail
    {
        [DataMember(IsRequired = true, Order = 0)] public string reason { get; set; }
        [DataMember(IsRequired = true, Order = 1)] public string message { get; set; }
    }

    [DataContract(Name = "NotFoundFaultDetail", Namespace = "urn:soap-service:v1")]
    public class NotFoundFaultDetail
    {
        [DataMember(IsRequired = true, Order = 0)] public string image_id { get; set; }
    }
}

// Reads (never changes) each request's and each accepted reply's WS-Addressing headers.
class Exchanges : IClientMessageInspector, IEndpointBehavior
{
    public readonly List<object> Seen = new List<object>();

    public object BeforeSendRequest(ref Message request, IClientChannel channel)
    {
        var exchange = new Dictionary<string, object> {
            { "version", request.Version.ToString() },
            { "action", request.Headers.Action },
            { "message_id", request.Headers.MessageId == null ? null : request.Headers.MessageId.ToString() } };
        Seen.Add(exchange);
        return exchange;
    }

    public void AfterReceiveReply(ref Message reply, object state)
    {
        var exchange = (Dictionary<string, object>)state;
        exchange["reply_action"] = reply.Headers.Action;
        exchange["relates_to"] = reply.Headers.RelatesTo == null ? null : reply.Headers.RelatesTo.ToString();
    }

    public void AddBindingParameters(ServiceEndpoint endpoint, BindingParameterCollection parameters) { }
    public void ApplyClientBehavior(ServiceEndpoint endpoint, ClientRuntime runtime) { runtime.MessageInspectors.Add(this); }
    public void ApplyDispatchBehavior(ServiceEndpoint endpoint, EndpointDispatcher dispatcher) { }
    public void Validate(ServiceEndpoint endpoint) { }
}

static class Driver
{
    const string Tns = "urn:soap-service:v1";

    static void DeclareFault(OperationDescription op, string name, Type detail)
    {
        var fault = new FaultDescription(Tns + "/" + op.Name + name) { DetailType = detail, Name = name, Namespace = Tns };
        op.Faults.Add(fault);
    }

    static Dictionary<string, object> Detail(FaultException f, params string[] fields)
    {
        var code = f.Code.Name;
        if (f.Code.SubCode != null) code += "." + f.Code.SubCode.Name;
        var result = new Dictionary<string, object> { { "code", code } };
        var detail = f.GetType().GetProperty("Detail").GetValue(f);
        foreach (var field in fields)
        {
            var value = detail.GetType().GetProperty(field).GetValue(detail);
            result[field] = value.ToString();
        }
        return result;
    }

    static string Sha256(byte[] data)
    {
        var b = new StringBuilder();
        using (var sha = System.Security.Cryptography.SHA256.Create())
            foreach (var x in sha.ComputeHash(data)) b.Append(x.ToString("x2"));
        return b.ToString();
    }

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
        catch (FaultException<ValidationFaultDetail> f) { return Detail(f, "field", "reason"); }
        catch (FaultException<ImageRejectedFaultDetail> f) { return Detail(f, "reason", "message"); }
        catch (FaultException<NotFoundFaultDetail> f) { return Detail(f, "image_id"); }
        throw new Exception("expected a declared fault");
    }

    static int Main(string[] args)
    {
        var endpoint = new EndpointAddress(args[0]);
        // HTTP Basic: WCF sends it after the service's 401 challenge.
        Binding binding;
        Exchanges exchanges = null;
        if (args[1] == "Soap11WSAddressing10" || args[1] == "Soap12WSAddressing10")
        {
            var version = args[1] == "Soap12WSAddressing10" ? MessageVersion.Soap12WSAddressing10 : MessageVersion.Soap11WSAddressing10;
            binding = new CustomBinding(
                new TextMessageEncodingBindingElement(version, Encoding.UTF8),
                new HttpTransportBindingElement { AuthenticationScheme = System.Net.AuthenticationSchemes.Basic });
            exchanges = new Exchanges();
        }
        else if (args[1] == "1.2")
            binding = new CustomBinding(
                new TextMessageEncodingBindingElement(MessageVersion.Soap12, Encoding.UTF8),
                new HttpTransportBindingElement { AuthenticationScheme = System.Net.AuthenticationSchemes.Basic });
        else
        {
            var basic = new BasicHttpBinding(BasicHttpSecurityMode.TransportCredentialOnly);
            basic.Security.Transport.ClientCredentialType = HttpClientCredentialType.Basic;
            binding = basic;
        }
        var api = new SoapServicePortTypeClient(binding, endpoint);
        if (exchanges != null) api.Endpoint.Behaviors.Add(exchanges);
        api.ClientCredentials.UserName.UserName = args[4];
        api.ClientCredentials.UserName.Password = args[5];
        foreach (var op in api.Endpoint.Contract.Operations)
        {
            DeclareFault(op, "ValidationFault", typeof(ValidationFaultDetail));
            if (op.Name == "UploadImage") DeclareFault(op, "ImageRejectedFault", typeof(ImageRejectedFaultDetail));
            if (op.Name == "GetImage" || op.Name == "DeleteImage") DeclareFault(op, "NotFoundFault", typeof(NotFoundFaultDetail));
        }

        var report = new Dictionary<string, object>();
        try { Scenario(api, args, report); }
        catch (Exception e)
        {
            // what went wrong, with the addressing WCF had sent so far, then fail
            Console.Error.WriteLine(e);
            report["error"] = e.GetType().FullName + ": " + e.Message;
            if (exchanges != null) report["exchanges"] = exchanges.Seen;
            Console.WriteLine(Json(report));
            return 1;
        }
        if (exchanges != null) report["exchanges"] = exchanges.Seen;
        Console.WriteLine(Json(report));
        return 0;
    }

    static void Scenario(SoapServicePortTypeClient api, string[] args, Dictionary<string, object> report)
    {
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
            { "image_id", receipt.image_id }, { "sha256", receipt.sha256 }, { "size_bytes", receipt.size_bytes },
            { "format", receipt.format }, { "width", receipt.width }, { "height", receipt.height } };
        // ListImages, newest first, page by page until the upload shows
        string token = null;
        do
        {
            var page = api.ListImages(100, token);
            foreach (var listed in page.images ?? new ImageReceipt[0])
                if (listed.image_id == receipt.image_id && !report.ContainsKey("listed"))
                    report["listed"] = new Dictionary<string, object> {
                        { "image_id", listed.image_id }, { "sha256", listed.sha256 }, { "size_bytes", listed.size_bytes } };
            token = page.next_page_token;
        } while (!report.ContainsKey("listed") && !string.IsNullOrEmpty(token));
        var image = api.GetImage(receipt.image_id);
        byte[] content = image.content;  // byte[], as the proxy declares it
        report["image"] = new Dictionary<string, object> {
            { "image_id", image.image_id }, { "filename", image.filename },
            { "sha256", Sha256(content) }, { "size_bytes", (long)content.Length } };
        report["fault_validation"] = Fault(() => api.Greet(" "));
        report["fault_age"] = Fault(() => api.EchoPerson(new Person { first_name = "A", last_name = "B", age = 200 }));
        report["fault_zone"] = Fault(() => api.GetTime("Mars/Olympus_Mons"));
        report["fault_image"] = Fault(() => api.UploadImage("n.png", File.ReadAllBytes(args[3]), null));
        // the two operations the shared scenario leaves out: what the server saw, and a delete
        var seen = api.DescribeRequest();
        report["describe"] = new Dictionary<string, object> {
            { "soap_version", seen.soap_version }, { "soap_action", seen.soap_action },
            { "soap_headers", new List<object>(seen.soap_headers ?? new ArrayOfString()) } };
        var deleted = api.DeleteImage(receipt.image_id);
        report["delete"] = new Dictionary<string, object> { { "image_id", deleted.image_id } };
        report["fault_gone"] = Fault(() => api.GetImage(receipt.image_id));
    }
}
