// What Mono's WCF raises for a declared fault when the client is used exactly as svcutil
// generates it: no FaultContract (Mono's svcutil writes none) and no detail types.
// Usage: mono faultprobe.exe ENDPOINT SOAP_VERSION(1.1|1.2)
//   calls Greet(" ") (refused with a ValidationFault) and prints one JSON object: "type" (the
//   exception's), "message", "stack" (where it was raised) and, for a FaultException, "code",
//   "reason" and "detail_type" (the T of FaultException<T>, or "").
// Or:    mono faultprobe.exe --default-constructor
//   prints what the generated default constructor throws ("type", "message", "stack") with
//   no configuration file (Mono's svcutil writes none).
using System;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Text;

static class FaultProbe
{
    static string Q(string s)
    {
        var b = new StringBuilder("\"");
        foreach (char c in s ?? "")
        {
            if (c == '"' || c == '\\') b.Append('\\').Append(c);
            else if (c < 0x20) b.AppendFormat("\\u{0:x4}", (int)c);
            else b.Append(c);
        }
        return b.Append('"').ToString();
    }

    static string Raised(Exception e)
    {
        return "{\"type\":" + Q(e.GetType().FullName) + ",\"message\":" + Q(e.Message)
            + ",\"stack\":" + Q(e.StackTrace);
    }

    static int Main(string[] args)
    {
        if (args[0] == "--default-constructor")
        {
            try { new SoapServicePortTypeClient(); }
            catch (Exception e) { Console.WriteLine(Raised(e) + "}"); return 0; }
            Console.WriteLine("{\"type\":\"\"}");
            return 1;
        }
        Binding binding = args[1] == "1.2"
            ? (Binding)new CustomBinding(
                new TextMessageEncodingBindingElement(MessageVersion.Soap12, Encoding.UTF8),
                new HttpTransportBindingElement())
            : new BasicHttpBinding();
        var api = new SoapServicePortTypeClient(binding, new EndpointAddress(args[0]));
        try
        {
            api.Greet(" ");
            Console.WriteLine("{\"type\":\"\"}");
            return 1;
        }
        catch (Exception e)
        {
            var json = Raised(e);
            var fault = e as FaultException;
            if (fault != null)
            {
                var code = fault.Code.Name;
                if (fault.Code.SubCode != null) code += "." + fault.Code.SubCode.Name;
                var generic = e.GetType().IsGenericType ? e.GetType().GetGenericArguments()[0].FullName : "";
                json += ",\"code\":" + Q(code) + ",\"reason\":" + Q(fault.Reason.ToString())
                    + ",\"detail_type\":" + Q(generic);
            }
            Console.WriteLine(json + "}");
            return 0;
        }
    }
}
