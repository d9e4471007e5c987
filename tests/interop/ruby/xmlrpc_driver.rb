# Ruby's xmlrpc (Debian ruby-xmlrpc) calling POST /xmlrpc as its README shows:
#   server = XMLRPC::Client.new2(url); server.call(method, *params)
# with HTTP Basic in the URL (new2 takes user:password@ from it).
# Usage: ruby xmlrpc_driver.rb URL PNG_FILE TEXT_FILE USER PASSWORD
# Prints one JSON object: what each call returned, faults as {faultCode, faultString}.
require "xmlrpc/client"
require "json"
require "digest"
require "uri"

url, png_file, text_file, user, password = ARGV
signed = URI(url)
signed.user = user
signed.password = password
anonymous = XMLRPC::Client.new2(url)
signed_in = XMLRPC::Client.new2(signed.to_s)

def plain(value)
  case value
  when XMLRPC::DateTime then { "dateTime" => value.to_a.first(6) }
  when Hash then value.transform_values { |v| plain(v) }
  when Array then value.map { |v| plain(v) }
  else value
  end
end

def outcome(client, method, *params)
  { "result" => plain(client.call(method, *params)) }
rescue XMLRPC::FaultException => e
  { "faultCode" => e.faultCode, "faultString" => e.faultString }
end

report = {}
report["greet"] = outcome(anonymous, "Greet", "Ada")
report["greet_blank"] = outcome(anonymous, "Greet", " ")
report["time"] = outcome(anonymous, "GetTime", "Europe/Paris")
person = { "first_name" => "Ada", "last_name" => "Lovelace", "age" => 36 }
report["echo"] = outcome(anonymous, "EchoPerson", person)
report["echo_too_old"] = outcome(anonymous, "EchoPerson", person.merge("age" => 151))
report["unknown"] = outcome(anonymous, "hello", "Ada")
report["methods"] = outcome(anonymous, "system.listMethods")
report["signature"] = outcome(anonymous, "system.methodSignature", "UploadImage")

png = File.binread(png_file)
upload = outcome(signed_in, "UploadImage", "photo.png", XMLRPC::Base64.new(png), "image/png")
report["upload"] = upload
if upload["result"]
  id = upload["result"]["image_id"]
  image = signed_in.call("GetImage", id)
  report["get_sha256"] = Digest::SHA256.hexdigest(image["content"])
  # the receipt's page of ListImages, named parameters, following next_page_token
  params = { "page_size" => 100 }
  50.times do
    page = signed_in.call("ListImages", params)
    found = page["images"].find { |receipt| receipt["image_id"] == id }
    if found
      report["listed"] = found["image_id"]
      break
    end
    break unless page["next_page_token"]
    params["page_token"] = page["next_page_token"]
  end
  report["delete"] = outcome(signed_in, "DeleteImage", id)
  report["get_deleted"] = outcome(signed_in, "GetImage", id)
end
report["upload_text"] = outcome(signed_in, "UploadImage", "notes.txt",
                                XMLRPC::Base64.new(File.binread(text_file)))
report["describe"] = outcome(signed_in, "DescribeRequest")
report["png_sha256"] = Digest::SHA256.hexdigest(png)
puts JSON.generate(report)
