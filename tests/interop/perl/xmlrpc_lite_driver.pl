#!/usr/bin/perl
# XMLRPC::Lite (Debian libxmlrpc-lite-perl) calling POST /xmlrpc as its documentation shows:
#   XMLRPC::Lite->proxy($url)->call($method, @params)->result
# HTTP Basic through the proxy's LWP options (perldoc SOAP::Transport: credentials), which
# LWP sends when the service challenges with 401 and its realm.
# Usage: xmlrpc_lite_driver.pl URL PNG_FILE TEXT_FILE USER PASSWORD
# Prints one JSON object: what each call returned, faults as {faultCode, faultString}.
use strict;
use warnings;
use XMLRPC::Lite;
use JSON::PP;
use URI;
use MIME::Base64 qw(encode_base64);
use Digest::SHA qw(sha256_hex);

my ($url, $png_file, $text_file, $user, $password) = @ARGV;
my $netloc = URI->new($url)->host_port;

sub slurp {
    my ($file) = @_;
    open(my $fh, '<:raw', $file) or die "$file: $!";
    local $/;
    return <$fh>;
}

sub client {
    my (@credentials) = @_;
    return XMLRPC::Lite->proxy($url, @credentials
        ? (credentials => [$netloc, 'soap-service', @credentials]) : ());
}

my $anonymous = client();
my $signed_in = client($user, $password);
my %report;

sub outcome {
    my ($som) = @_;
    return { faultCode => $som->faultcode + 0, faultString => $som->faultstring } if $som->fault;
    return { result => $som->result };
}

$report{greet} = outcome($anonymous->call('Greet', 'Ada'));
$report{greet_blank} = outcome($anonymous->call('Greet', ' '));
$report{time} = outcome($anonymous->call('GetTime', 'Europe/Paris'));
$report{echo} = outcome($anonymous->call('EchoPerson',
    { first_name => 'Ada', last_name => 'Lovelace', age => 36 }));
$report{echo_too_old} = outcome($anonymous->call('EchoPerson',
    { first_name => 'Ada', last_name => 'Lovelace', age => 151 }));
$report{unknown} = outcome($anonymous->call('hello', 'Ada'));
$report{methods} = outcome($anonymous->call('system.listMethods'));
$report{help} = outcome($anonymous->call('system.methodHelp', 'Greet'));
$report{signature} = outcome($anonymous->call('system.methodSignature', 'UploadImage'));

my $png = slurp($png_file);
my $upload = $signed_in->call('UploadImage', 'photo.png',
    XMLRPC::Data->type(base64 => $png), 'image/png');
$report{upload} = outcome($upload);
if (!$upload->fault) {
    my $id = $upload->result->{image_id};
    my $image = $signed_in->call('GetImage', $id);
    $report{get} = outcome($image);
    # the bytes, as XMLRPC::Lite decoded the <base64>: compared by digest, not sent back
    $report{get_sha256} = sha256_hex($image->result->{content}) unless $image->fault;
    delete $report{get}{result}{content} unless $image->fault;
    # the receipt's page of ListImages, named parameters, following next_page_token
    my %page_params = (page_size => 100);
    for (1 .. 50) {
        my $page = $signed_in->call('ListImages', {%page_params});
        if ($page->fault) { $report{list} = outcome($page); last; }
        my @found = grep { $_->{image_id} eq $id } @{ $page->result->{images} };
        if (@found) { $report{listed} = $found[0]->{image_id}; last; }
        last unless $page->result->{next_page_token};
        $page_params{page_token} = $page->result->{next_page_token};
    }
    $report{delete} = outcome($signed_in->call('DeleteImage', $id));
    $report{get_deleted} = outcome($signed_in->call('GetImage', $id));
}
$report{upload_text} = outcome($signed_in->call('UploadImage', 'notes.txt',
    XMLRPC::Data->type(base64 => slurp($text_file))));
$report{describe} = outcome($signed_in->call('DescribeRequest'));
$report{png_sha256} = sha256_hex($png);

print JSON::PP->new->canonical->allow_blessed->convert_blessed->encode(\%report), "\n";
